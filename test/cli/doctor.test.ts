/**
 * doctor's five checks against the in-memory API server (KubeClient.layerTest): a healthy installation passes
 * every check; each broken variant fails the check it should, with the finding an operator needs (both
 * fingerprints, the excluded namespace, the missing verb, "webhook not called" and why), and the exit code.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, JsonPatch, Layer, type Schema } from "effect"
import * as crypto from "node:crypto"
import { Mutator, type MutatorShape } from "../../src/admission/Mutator.ts"
import { diagnose } from "../../src/cli/Doctor.ts"
import { serviceAccount } from "../../src/cli/DoctorAccess.ts"
import { renderText } from "../../src/cli/DoctorReport.ts"
import { type Issued, issueServing, makeCa } from "../../src/cli/EmbeddedCerts.ts"
import { FakeKube, KubeClient } from "../../src/kube/KubeClient.ts"
import type { FakeControl } from "../../src/kube/FakeTransport.ts"
import type { Pod } from "../../src/kube/KubeTypes.ts"
import { toSecretData } from "../../src/services/certs/CertMaterial.ts"
import { desiredConfiguration } from "../../src/services/registrar/WebhookManifest.ts"
import { parseSettings, WebhookConfig, type WebhookConfigShape } from "../../src/WebhookConfig.ts"

const fingerprint = (pem: string) => new crypto.X509Certificate(pem).fingerprint256
const ca = makeCa("doctor test CA", 365)
const other = makeCa("another CA", 365)
const serving = issueServing(ca, { dns: ["flyte-pod-webhook.flyte.svc"], ips: [] }, 200)

const settingsFor = (webhook: Record<string, unknown> = {}): WebhookConfigShape =>
  parseSettings({ webhook: { secretManagerType: "K8s", ...webhook } }, { POD_NAMESPACE: "flyte" }, "<test>")

interface Variant {
  readonly webhook?: Record<string, unknown>
  readonly caBundle?: Issued
  readonly readyEndpoints?: number
  readonly omitGrant?: string
  readonly extraGrant?: boolean
  /** How the "API server" admits the dry-run Pod: through the real engine (default), not at all, or a denial. */
  readonly admission?: "engine" | "not-called" | "deny"
  readonly namespaceLabels?: Record<string, string>
  readonly failOpenRise?: number
}

/** install: seeds the fake API server with an installation as deploy/base and the webhook would leave it. */
const install = (fake: FakeControl, settings: WebhookConfigShape, mutator: MutatorShape, v: Variant) => {
  fake.putWebhookConfiguration(desiredConfiguration(settings, (v.caBundle ?? ca).certPem))
  fake.putSecret({
    metadata: { name: "flyte-pod-webhook-secret", namespace: "flyte" },
    data: toSecretData({ caCrt: ca.certPem, caKey: ca.keyPem, tlsCrt: serving.certPem, tlsKey: serving.keyPem })
  })
  fake.putService({ metadata: { name: "flyte-pod-webhook", namespace: "flyte" }, spec: { ports: [{ name: "https", port: 443, targetPort: "https" }] } })
  fake.putEndpointSlice({
    metadata: { name: "flyte-pod-webhook-x1", namespace: "flyte", labels: { "kubernetes.io/service-name": "flyte-pod-webhook" } },
    ports: [{ name: "https", port: 9443 }],
    endpoints: Array.from({ length: 2 }, (_, i) => ({ addresses: [`10.0.0.${i + 1}`], conditions: { ready: i < (v.readyEndpoints ?? 2) }, targetRef: { name: `webhook-${i}` } }))
  })
  fake.putNamespace({ metadata: { name: "tasks", labels: v.namespaceLabels ?? {} } })
  const { user } = serviceAccount(settings)
  const grants = [
    { verbs: ["get", "update"], apiGroups: [""], resources: ["secrets"], resourceNames: ["flyte-pod-webhook-secret"], namespace: "flyte" },
    { verbs: ["get", "create", "patch"], apiGroups: ["admissionregistration.k8s.io"], resources: ["mutatingwebhookconfigurations"], resourceNames: ["flyte-pod-webhook"] }
  ]
  for (const rule of grants) fake.grant(user, { ...rule, verbs: rule.verbs.filter((verb) => verb !== v.omitGrant) })
  if (v.extraGrant === true) fake.grant(user, { verbs: ["list"], apiGroups: [""], resources: ["secrets"] })
  fake.proxy(async (_ns, _svc, _port, _path, body) => Effect.runPromise(Effect.map(mutator.review(body), (r) => r.review)))
  let failOpen = 0
  fake.setApiServerMetrics(`apiserver_admission_webhook_fail_open_count{name="flyte-pod-webhook.flyte.org",type="admit"} 0\n`)
  fake.admitPods(async (namespace, pod) => {
    if (v.admission === "deny") return { _tag: "Refused", status: 403, reason: "Forbidden", message: "admission webhook \"flyte-pod-webhook.flyte.org\" denied the request: flyte-pod-webhook: secret not found" }
    if (v.admission === "not-called") {
      failOpen += v.failOpenRise ?? 0
      fake.setApiServerMetrics(`apiserver_admission_webhook_fail_open_count{name="flyte-pod-webhook.flyte.org",type="admit"} ${failOpen}\n`)
      return { _tag: "Admitted", pod, warnings: [] }
    }
    const review = { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "u", kind: { kind: "Pod" }, resource: { resource: "pods" }, namespace, operation: "CREATE", object: pod } }
    const result = await Effect.runPromise(mutator.review(review))
    const response = result.review["response"] as { patch?: string }
    const ops = response.patch === undefined ? [] : JSON.parse(Buffer.from(response.patch, "base64").toString())
    return { _tag: "Admitted", pod: JsonPatch.apply(ops, pod as unknown as Schema.Json) as unknown as Pod, warnings: [] }
  })
}

const run = (v: Variant = {}) => {
  const settings = settingsFor(v.webhook)
  const config = Layer.succeed(WebhookConfig, settings)
  return Effect.gen(function*() {
    install(yield* FakeKube, settings, yield* Mutator, v)
    return yield* diagnose(settings, "tasks")
  }).pipe(Effect.provide(Layer.mergeAll(KubeClient.layerTest(), Mutator.layer.pipe(Layer.provide(config)))))
}

const findings = (result: { checks: ReadonlyArray<{ id: number; findings: ReadonlyArray<{ status: string; message: string }> }> }, id: number) =>
  result.checks.find((c) => c.id === id)?.findings ?? []
const statuses = (result: { checks: ReadonlyArray<{ status: string }> }) => result.checks.map((c) => c.status)

describe("doctor against the in-memory API server", () => {
  it.live("a healthy installation passes all five checks and exits 0", () =>
    Effect.gen(function*() {
      const result = yield* run()
      if (process.env["SHOW_DOCTOR"] === "1") console.log(renderText(result))
      assert.deepStrictEqual(statuses(result), ["pass", "pass", "pass", "pass", "pass"], renderText(result))
      assert.strictEqual(result.exitCode, 0)
      assert.match(findings(result, 5)[0]!.message, /^injected: \d+ additions.*env probe\/_FSEC_FLYTE-POD-WEBHOOK-DOCTOR_PROBE/)
      assert.match(findings(result, 2).map((f) => f.message).join("\n"), /reached the webhook through Service flyte\/flyte-pod-webhook:443/)
    }))

  it.live("a caBundle of another CA fails check 2, naming both fingerprints", () =>
    Effect.gen(function*() {
      const result = yield* run({ caBundle: other })
      const text = findings(result, 2).filter((f) => f.status === "fail").map((f) => f.message).join("\n")
      assert.include(text, fingerprint(other.certPem), "the caBundle's CA")
      assert.include(text, fingerprint(serving.certPem), "the serving certificate")
      assert.include(text, fingerprint(ca.certPem), "the serving certificate's CA, from the Secret")
      assert.strictEqual(result.exitCode, 1)
    }))

  it.live("configuration drift is shown as a diff", () =>
    Effect.gen(function*() {
      const settings = settingsFor()
      const result = yield* Effect.gen(function*() {
        const fake = yield* FakeKube
        install(fake, settings, yield* Mutator, {})
        const live = fake.webhookConfiguration("flyte-pod-webhook")!
        fake.putWebhookConfiguration({ ...live, webhooks: live.webhooks!.map((w) => ({ ...w, timeoutSeconds: 30, objectSelector: {} })) })
        return yield* diagnose(settings, "tasks")
      }).pipe(Effect.provide(Layer.mergeAll(KubeClient.layerTest(), Mutator.layer.pipe(Layer.provide(Layer.succeed(WebhookConfig, settings))))))
      const message = findings(result, 1)[0]!.message
      assert.include(message, "- objectSelector: {}\n+ objectSelector: {\"matchLabels\":{\"inject-flyte-secrets\":\"true\"}}")
      assert.include(message, "- timeoutSeconds: 30\n+ timeoutSeconds: 10")
      assert.strictEqual(result.checks[0]!.status, "fail")
    }))

  it.live("no ready endpoint fails check 3; one is a warning", () =>
    Effect.gen(function*() {
      assert.strictEqual((yield* run({ readyEndpoints: 0 })).checks[2]!.status, "fail")
      const one = yield* run({ readyEndpoints: 1 })
      assert.strictEqual(one.checks[2]!.status, "warn")
      assert.strictEqual(one.exitCode, 0)
    }))

  it.live("a missing RBAC verb is named; an extra grant is flagged", () =>
    Effect.gen(function*() {
      const result = yield* run({ omitGrant: "update", extraGrant: true })
      const messages = findings(result, 4).map((f) => `${f.status} ${f.message}`)
      assert.include(messages, "fail system:serviceaccount:flyte:flyte-pod-webhook lacks update on secrets \"flyte-pod-webhook-secret\" in namespace flyte")
      assert.include(messages, "warn system:serviceaccount:flyte:flyte-pod-webhook also has list on secrets in namespace flyte, which it does not need")
      assert.strictEqual(result.exitCode, 1)
    }))

  it.live("a namespace excluded by the namespaceSelector is named", () =>
    Effect.gen(function*() {
      const result = yield* run({ webhook: { namespaceSelector: { matchLabels: { flyte: "tasks" } } }, admission: "not-called", namespaceLabels: { team: "a" } })
      assert.match(findings(result, 5)[0]!.message, /^webhook not called: namespace tasks \(labels \{"team":"a"\}\) is excluded by namespaceSelector \{"matchLabels":\{"flyte":"tasks"\}\}/)
    }))

  it.live("failurePolicy Ignore with the webhook down: 'webhook not called', with the API server's fail-open count as evidence", () =>
    Effect.gen(function*() {
      const result = yield* run({ webhook: { failurePolicy: "Ignore" }, admission: "not-called", failOpenRise: 1 })
      assert.strictEqual(
        findings(result, 5)[0]!.message,
        "webhook not called: the call failed and failurePolicy Ignore admitted the Pod without its secrets (apiserver_admission_webhook_fail_open_count for flyte-pod-webhook.flyte.org rose by 1)"
      )
      assert.strictEqual(result.exitCode, 1)
    }))

  it.live("a denial is reported with its message", () =>
    Effect.gen(function*() {
      const result = yield* run({ admission: "deny" })
      assert.match(findings(result, 5)[0]!.message, /^refused \(403 Forbidden\): admission webhook .* denied the request: flyte-pod-webhook: secret not found/)
    }))

  it.live("without access to SubjectAccessReviews check 4 cannot run: exit 2, naming the grant", () =>
    Effect.gen(function*() {
      const settings = settingsFor()
      const result = yield* Effect.gen(function*() {
        const fake = yield* FakeKube
        install(fake, settings, yield* Mutator, {})
        fake.refuseSelf("create", "subjectaccessreviews")
        return yield* diagnose(settings, "tasks")
      }).pipe(Effect.provide(Layer.mergeAll(KubeClient.layerTest(), Mutator.layer.pipe(Layer.provide(Layer.succeed(WebhookConfig, settings))))))
      assert.strictEqual(result.checks[3]!.status, "unknown")
      assert.match(findings(result, 4)[0]!.message, /cannot ask the API server about system:serviceaccount:flyte:flyte-pod-webhook's permissions: forbidden/)
      assert.strictEqual(result.exitCode, 2)
    }))
})
