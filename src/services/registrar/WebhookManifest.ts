/**
 * WebhookManifest: the MutatingWebhookConfiguration this webhook registers (spec section 5), how to tell
 * whether the live object already has it, and the caBundle-only patch for GitOps installs.
 *
 * Content is a pure function of the config and the shared CA bundle, with every field the API server would
 * default written out explicitly, so replicas produce byte-identical objects and a comparison with the live
 * (defaulted) object is exact: same content → no write, and no two replicas ever disagree.
 */
import type { JsonPatchOp, MutatingWebhook, MutatingWebhookConfiguration } from "../../kube/KubeTypes.ts"
import { jsonEqual } from "../../kube/JsonEqual.ts"
import type { WebhookConfigShape } from "../../WebhookConfig.ts"

/** The one webhook's name (Flyte's). */
export const WebhookName = "flyte-pod-webhook.flyte.org"
/** The path the API server posts to (Flyte's; controller-runtime's convention for the v1 Pod mutator). */
export const MutatePath = "/mutate--v1-pod"
/** The label a Pod carries to be sent to us (Flyte's objectSelector). */
export const InjectLabel = "inject-flyte-secrets"

export const ConfigurationLabels = {
  "app.kubernetes.io/name": "flyte-pod-webhook",
  "app.kubernetes.io/managed-by": "flyte-pod-webhook"
}

export const toBase64 = (pem: string): string => Buffer.from(pem, "utf8").toString("base64")

/** desiredWebhook: spec section 5, ours: sideEffects None; failurePolicy, timeout, reinvocation from config. */
export const desiredWebhook = (config: WebhookConfigShape, caBundlePem: string): MutatingWebhook => {
  const { webhook } = config
  const caBundle = toBase64(caBundlePem)
  return {
    name: WebhookName,
    clientConfig: webhook.webhookUrl === undefined
      ? {
        service: { name: webhook.serviceName, namespace: config.podNamespace, path: MutatePath, port: webhook.servicePort },
        caBundle
      }
      : { url: webhook.webhookUrl, caBundle },
    rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], scope: "*" }],
    objectSelector: { matchLabels: { [InjectLabel]: "true" } },
    namespaceSelector: webhook.namespaceSelector ?? {},
    admissionReviewVersions: ["v1", "v1beta1"],
    sideEffects: "None",
    failurePolicy: webhook.failurePolicy,
    matchPolicy: "Equivalent",
    timeoutSeconds: webhook.timeoutSeconds,
    reinvocationPolicy: webhook.reinvocationPolicy
  }
}

/** desiredConfiguration: the object applied, named `webhook.serviceName`. */
export const desiredConfiguration = (config: WebhookConfigShape, caBundlePem: string): MutatingWebhookConfiguration => ({
  apiVersion: "admissionregistration.k8s.io/v1",
  kind: "MutatingWebhookConfiguration",
  metadata: { name: config.webhook.serviceName, labels: ConfigurationLabels },
  webhooks: [desiredWebhook(config, caBundlePem)]
})

/**
 * differences lists the fields of `desired` the live object does not have (empty = up to date). Only fields
 * we apply are compared, each exactly; fields other managers own are not ours to judge.
 */
export const differences = (live: MutatingWebhookConfiguration, desired: MutatingWebhookConfiguration): ReadonlyArray<string> => {
  const found: Array<string> = []
  for (const [key, value] of Object.entries(desired.metadata.labels ?? {})) {
    if (live.metadata.labels?.[key] !== value) found.push(`metadata.labels.${key}`)
  }
  for (const want of desired.webhooks ?? []) {
    const have = live.webhooks?.find((webhook) => webhook.name === want.name)
    if (have === undefined) {
      found.push(`webhooks[${want.name}]`)
      continue
    }
    for (const [key, value] of Object.entries(want)) {
      if (!jsonEqual(have[key], value)) found.push(`webhooks[${want.name}].${key}`)
    }
  }
  return found
}

/**
 * caBundlePatch: JSON-patch ops setting every webhook's caBundle to `caBundlePem`, guarded by a `test` of the
 * resourceVersion read (a concurrent change makes the patch fail instead of writing by a stale index).
 * Undefined when every caBundle is already current.
 */
export const caBundlePatch = (live: MutatingWebhookConfiguration, caBundlePem: string): ReadonlyArray<JsonPatchOp> | undefined => {
  const caBundle = toBase64(caBundlePem)
  const ops: Array<JsonPatchOp> = []
  ;(live.webhooks ?? []).forEach((webhook, index) => {
    if (webhook.clientConfig.caBundle === caBundle) return
    const op = webhook.clientConfig.caBundle === undefined ? "add" : "replace"
    ops.push({ op, path: `/webhooks/${index}/clientConfig/caBundle`, value: caBundle })
  })
  if (ops.length === 0) return undefined
  return [{ op: "test", path: "/metadata/resourceVersion", value: live.metadata.resourceVersion }, ...ops]
}
