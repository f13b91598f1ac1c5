/**
 * DoctorEndToEnd: doctor's check 5. A server-side dry-run create (`dryRun=All`: admission runs, nothing is
 * stored) of a labelled Pod asking for a test secret in `--namespace`, compared with what the offline engine
 * (the Mutator `mutate` and `serve` use, through its public `review`) says the Pod should get:
 * - injected: every env var, volume, mount, init container and annotation the engine adds is there;
 * - "webhook not called": none of it is there, with the likely reason: a rule, the objectSelector (label) or
 *   the namespaceSelector excludes the Pod, or, under failurePolicy Ignore, the call failed and the API server
 *   admitted the Pod unmutated (confirmed by `apiserver_admission_webhook_fail_open_count` when the API
 *   server's /metrics is readable: fail-open raises no warning to the client);
 * - denied or refused, with the API server's message.
 * The round trip is compared with the registration's timeoutSeconds (it includes the API server's own work).
 */
import { Clock, Effect, JsonPatch, type Schema } from "effect"
import type { MutatorShape } from "../admission/Mutator.ts"
import { encodeAnnotations } from "../domain/SecretAnnotation.ts"
import { makeSecretRequest } from "../domain/SecretRequest.ts"
import type { KubeClientShape } from "../kube/KubeClient.ts"
import type { MutatingWebhook, Pod, PodDryRun } from "../kube/KubeTypes.ts"
import { InjectLabel, WebhookName } from "../services/registrar/WebhookManifest.ts"
import { check, type CheckResult, fail, type Finding, pass, skip, unknown, warn } from "./DoctorReport.ts"
import { notCalledBecause } from "./DoctorSelectors.ts"

export const Title = "dry-run Pod gets what the offline engine says"

/** The secret the test Pod asks for (as an env var; the K8s manager references it without reading it). */
export const TestSecret = makeSecretRequest({ group: "flyte-pod-webhook-doctor", key: "probe", mountRequirement: "ENV_VAR" })

/** testPod: the labelled Pod created with a dry run. */
export const testPod = (namespace: string): Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    generateName: "flyte-pod-webhook-doctor-",
    namespace,
    labels: { [InjectLabel]: "true" },
    annotations: encodeAnnotations([TestSecret])
  },
  spec: { containers: [{ name: "probe", image: "registry.k8s.io/pause:3.10" }] }
})

export type Expected =
  | { readonly _tag: "Changes"; readonly pod: Pod }
  | { readonly _tag: "Denied"; readonly message: string }

type Json = Record<string, unknown>
const list = (value: unknown): ReadonlyArray<Json> => (Array.isArray(value) ? (value as ReadonlyArray<Json>) : [])

/** marks: what the engine may add to a Pod, as comparable strings (defaults the API server adds are not marks). */
export const marks = (pod: Pod): ReadonlySet<string> => {
  const spec = (pod.spec ?? {}) as Json
  const out = new Set<string>()
  for (const [kind, containers] of [["container", spec["containers"]], ["init", spec["initContainers"]]] as const) {
    for (const c of list(containers)) {
      out.add(`${kind} ${String(c["name"])}`)
      for (const e of list(c["env"])) out.add(`env ${String(c["name"])}/${String(e["name"])}`)
      for (const m of list(c["volumeMounts"])) out.add(`mount ${String(c["name"])}/${String(m["name"])}`)
    }
  }
  for (const v of list(spec["volumes"])) out.add(`volume ${String(v["name"])}`)
  for (const key of Object.keys(pod.metadata.annotations ?? {})) out.add(`annotation ${key}`)
  return out
}

/** expectOffline: the engine's answer for the test Pod. */
export const expectOffline = (mutator: MutatorShape, namespace: string, pod: Pod): Effect.Effect<Expected> =>
  mutator.review({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "00000000-0000-0000-0000-00000000d0c5",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      namespace,
      operation: "CREATE",
      userInfo: { username: "flyte-pod-webhook-doctor" },
      object: pod,
      oldObject: null,
      dryRun: true
    }
  }).pipe(
    Effect.map((result): Expected => {
      const response = result.review["response"] as { allowed?: boolean; patch?: string } | undefined
      if (response?.allowed !== true) return { _tag: "Denied", message: result.message ?? "denied" }
      const ops = response.patch === undefined ? [] : JSON.parse(Buffer.from(response.patch, "base64").toString("utf8"))
      return { _tag: "Changes", pod: JsonPatch.apply(ops as JsonPatch.JsonPatch, pod as unknown as Schema.Json) as unknown as Pod }
    }),
    Effect.catchTag("BadReview", (e) => Effect.succeed<Expected>({ _tag: "Denied", message: `offline engine: ${e.message}` }))
  )

/** counterSum: a counter of the API server's /metrics for our webhook (all label sets summed). */
export const counterSum = (metrics: string, name: string): number =>
  metrics.split("\n")
    .filter((line) => line.startsWith(`${name}{`) && line.includes(`name="${WebhookName}"`))
    .reduce((sum, line) => sum + (Number(line.slice(line.lastIndexOf(" ") + 1)) || 0), 0)

export interface EndToEndFacts {
  readonly namespace: string
  readonly webhook: MutatingWebhook
  readonly submitted: Pod
  readonly expected: Expected
  readonly actual: PodDryRun
  readonly millis: number
  /** Labels of `namespace`, undefined when not readable. */
  readonly namespaceLabels: Readonly<Record<string, string>> | undefined
  /** Rise of apiserver_admission_webhook_fail_open_count for our webhook; undefined when /metrics is not readable. */
  readonly failedOpen: number | undefined
}

const notCalled = (facts: EndToEndFacts): Finding => {
  const labels = facts.submitted.metadata.labels ?? {}
  const reasons = notCalledBecause(facts.webhook, facts.namespace, labels, facts.namespaceLabels)
  if (reasons.length > 0) {
    return fail(`webhook not called: ${reasons.join("; ")}`, "label the Pod `inject-flyte-secrets: \"true\"` and use a namespace the namespaceSelector selects (webhook.namespaceSelector)")
  }
  if (facts.webhook.failurePolicy === "Ignore") {
    const evidence = facts.failedOpen === undefined
      ? "(the API server's /metrics was not readable to confirm it)"
      : facts.failedOpen > 0
      ? `(apiserver_admission_webhook_fail_open_count for ${WebhookName} rose by ${facts.failedOpen})`
      : "(yet apiserver_admission_webhook_fail_open_count did not rise)"
    return fail(
      `webhook not called: the call failed and failurePolicy Ignore admitted the Pod without its secrets ${evidence}`,
      "no replica answered or TLS failed: see checks 2 and 3; with failurePolicy Fail such Pods are refused instead of started without secrets"
    )
  }
  return fail(
    "webhook not called, though its rules and selectors match: the API server may not have loaded the configuration yet (it picks changes up within seconds), or the namespace's labels were not readable",
    "run doctor again; if it persists, compare `kubectl get mutatingwebhookconfiguration -o yaml` with check 1"
  )
}

const outcome = (facts: EndToEndFacts): Finding => {
  const { actual, expected } = facts
  if (actual._tag === "Refused") {
    if (expected._tag === "Denied" && actual.message.includes(expected.message)) return pass(`denied, as the offline engine denies: ${actual.message}`)
    if (/failed calling webhook/.test(actual.message)) {
      return fail(`the API server could not call the webhook (failurePolicy Fail refused the Pod): ${actual.message}`, "x509 errors: check 2; timeouts or refused connections: check 3 and the webhook's Pods")
    }
    return fail(`refused (${actual.status} ${actual.reason}): ${actual.message}`, "a denial by flyte-pod-webhook names the secret and why (docs/troubleshooting.md); another admission plugin or webhook may refuse too")
  }
  if (expected._tag === "Denied") {
    return marks(actual.pod).size > marks(facts.submitted).size
      ? fail(`admitted and changed, but the offline engine denies it: ${expected.message}`, "the replicas run another config than doctor's --config")
      : notCalled(facts)
  }
  const have = marks(actual.pod)
  const before = marks(facts.submitted)
  const added = [...marks(expected.pod)].filter((m) => !before.has(m))
  const missing = added.filter((m) => !have.has(m))
  if (missing.length === 0) return pass(`injected: ${added.length} additions, as the offline engine computes (${added.join(", ")})`)
  if (missing.length === added.length) return notCalled(facts)
  return fail(`injected differently from the offline engine: missing ${missing.join(", ")}`, "the replicas run another config or version than doctor: compare --config with the ConfigMap they mount")
}

/** endToEndFindings: check 5 over what was seen. */
export const endToEndFindings = (facts: EndToEndFacts): ReadonlyArray<Finding> => {
  const timeoutMs = (facts.webhook.timeoutSeconds ?? 10) * 1000
  const timing = `round trip ${facts.millis} ms against timeoutSeconds ${timeoutMs / 1000}`
  return [
    outcome(facts),
    facts.millis >= timeoutMs / 2
      ? warn(`${timing}: more than half of it`, "the webhook answers in milliseconds: slow calls point at the network path or overload (docs/troubleshooting.md, timeouts)")
      : pass(timing)
  ]
}

/** endToEndCheck: check 5. */
export const endToEndCheck = (
  kube: KubeClientShape,
  mutator: MutatorShape,
  namespace: string,
  webhook: MutatingWebhook | undefined
): Effect.Effect<CheckResult> =>
  Effect.gen(function*() {
    if (webhook === undefined) return check(5, Title, [skip("no registration to test (check 1)")])
    const mayCreate = yield* kube.reviewAccess({ verb: "create", group: "", resource: "pods", namespace }).pipe(
      Effect.map((a) => a.allowed),
      Effect.catch(() => Effect.succeed(true))
    )
    if (!mayCreate) {
      return check(5, Title, [unknown(`these credentials may not create pods in ${namespace}, even as a dry run`, `grant create on pods in ${namespace} (RBAC cannot tell a dry run apart; bind deploy/components/doctor's Role there)`)])
    }
    const found = yield* kube.getNamespace(namespace).pipe(
      Effect.map((ns) => ({ _tag: "Labels", labels: ns.metadata.labels ?? {} }) as const),
      Effect.catch((e) => Effect.succeed(e._tag === "NotFound" ? { _tag: "Missing" } as const : { _tag: "Unreadable" } as const))
    )
    if (found._tag === "Missing") return check(5, Title, [fail(`namespace ${namespace} not found`, "pass --namespace with a namespace where Flyte task Pods run")])
    const submitted = testPod(namespace)
    const expected = yield* expectOffline(mutator, namespace, submitted)
    const failOpen = kube.getApiServerMetrics.pipe(
      Effect.map((text) => counterSum(text, "apiserver_admission_webhook_fail_open_count") as number | undefined),
      Effect.catch(() => Effect.succeed(undefined))
    )
    const before = yield* failOpen
    const started = yield* Clock.currentTimeMillis
    const actual = yield* kube.createPodDryRun(namespace, submitted, `${(webhook.timeoutSeconds ?? 10) + 10} seconds`).pipe(Effect.result)
    const millis = (yield* Clock.currentTimeMillis) - started
    if (actual._tag === "Failure") return check(5, Title, [unknown(`the dry-run create got no answer: ${actual.failure.message}`, "is the API server reachable from here?")])
    const after = yield* failOpen
    return check(5, Title, endToEndFindings({
      namespace,
      webhook,
      submitted,
      expected,
      actual: actual.success,
      millis,
      namespaceLabels: found._tag === "Labels" ? found.labels : undefined,
      failedOpen: before === undefined || after === undefined ? undefined : after - before
    }))
  })
