/**
 * DoctorRegistration: doctor's check 1. The MutatingWebhookConfiguration `webhook.serviceName` exists and its
 * webhook `flyte-pod-webhook.flyte.org` carries what the config says: the fields the Registrar applies
 * (registrar/WebhookManifest.ts `desiredWebhook`: rules, objectSelector, namespaceSelector, failurePolicy,
 * timeoutSeconds, sideEffects, reinvocationPolicy, clientConfig, ...). Drift is shown as a diff, `-` the live
 * object, `+` what the webhook would apply. The caBundle is check 2's.
 */
import { jsonEqual } from "../kube/JsonEqual.ts"
import type { MutatingWebhook, MutatingWebhookConfiguration } from "../kube/KubeTypes.ts"
import { registrationMode } from "../services/Registrar.ts"
import { desiredWebhook, WebhookName } from "../services/registrar/WebhookManifest.ts"
import type { WebhookConfigShape } from "../WebhookConfig.ts"
import { check, type CheckResult, fail, type Finding, pass, warn } from "./DoctorReport.ts"

export const Title = "MutatingWebhookConfiguration matches the config"

const show = (value: unknown) => (value === undefined ? "<unset>" : JSON.stringify(value))

/** drift: one `-` / `+` pair per field of the desired webhook the live one does not have (caBundle aside). */
export const drift = (live: MutatingWebhook, desired: MutatingWebhook): ReadonlyArray<string> => {
  const lines: Array<string> = []
  for (const [key, want] of Object.entries(desired)) {
    const have = key === "clientConfig" ? { ...live.clientConfig, caBundle: undefined } : live[key]
    const wanted = key === "clientConfig" ? { ...(want as MutatingWebhook["clientConfig"]), caBundle: undefined } : want
    if (!jsonEqual(have, wanted)) lines.push(`- ${key}: ${show(have)}`, `+ ${key}: ${show(wanted)}`)
  }
  return lines
}

/** liveWebhook: our webhook in the live configuration, if any. */
export const liveWebhook = (live: MutatingWebhookConfiguration | undefined): MutatingWebhook | undefined =>
  live?.webhooks?.find((webhook) => webhook.name === WebhookName)

/** registrationFindings: check 1 over the live object (undefined when it does not exist). */
export const registrationFindings = (
  settings: WebhookConfigShape,
  live: MutatingWebhookConfiguration | undefined
): ReadonlyArray<Finding> => {
  const name = settings.webhook.serviceName
  const mode = registrationMode(settings.webhook)
  const owner = mode === "full"
    ? "the webhook registers it itself once a replica's TLS listener is up: check the Pods, their /readyz and logs (a `registration failed` line names the missing RBAC rule)"
    : "this install does not let the webhook create it (webhook.disableCreateMutatingWebhookConfig): apply it from your manifests (deploy/overlays/gitops, or the chart with gitops.enabled)"
  if (live === undefined) return [fail(`MutatingWebhookConfiguration ${name} not found`, owner)]
  const webhook = liveWebhook(live)
  if (webhook === undefined) {
    const names = (live.webhooks ?? []).map((w) => w.name).join(", ") || "none"
    return [fail(`${name} has no webhook named ${WebhookName} (it has: ${names})`, owner)]
  }
  const desired = desiredWebhook(settings, "")
  const lines = drift(webhook, desired)
  const findings: Array<Finding> = []
  if (lines.length === 0) {
    findings.push(pass(`${name}: rules (pods, CREATE), objectSelector, namespaceSelector, failurePolicy ${desired.failurePolicy}, timeoutSeconds ${desired.timeoutSeconds}, sideEffects None, reinvocationPolicy ${desired.reinvocationPolicy} as configured`))
  } else {
    findings.push(fail(
      `${name} differs from what the webhook would apply (- live, + config ${settings.source}):\n${lines.join("\n")}`,
      mode === "full"
        ? "the webhook re-applies its registration within webhook.registrationCheckInterval; if the drift stays, another tool (GitOps, a Helm release) keeps writing it, or the replicas run another config: make them agree"
        : "GitOps mode: the manifest in git is the source; make it and the webhook's config agree"
    ))
  }
  if (webhook.sideEffects !== "None" && webhook.sideEffects !== "NoneOnDryRun") {
    findings.push(fail(
      `sideEffects is ${show(webhook.sideEffects)}: the API server refuses every dry-run request that would call this webhook`,
      "set sideEffects: None (the webhook has none)"
    ))
  }
  if (webhook.failurePolicy === "Ignore") {
    findings.push(warn(
      "failurePolicy Ignore: while no replica answers, Pods are admitted without their secrets",
      "use Fail (the default) unless Pods without secrets are acceptable; run two or more replicas"
    ))
  }
  return findings
}

/** registrationCheck: check 1 as a result. */
export const registrationCheck = (settings: WebhookConfigShape, live: MutatingWebhookConfiguration | undefined): CheckResult =>
  check(1, Title, registrationFindings(settings, live))
