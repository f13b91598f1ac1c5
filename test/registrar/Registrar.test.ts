/**
 * Registrar against the fake API server (which defaults webhook fields as the real one does): the content of
 * spec section 5, no write when nothing changed, replicas converging, caBundle following CA changes, drift
 * repair, the GitOps and disabled modes, URL mode, and RBAC / outage handling through the readiness gate.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Ref } from "effect"
import { FakeKube, KubeClient } from "../../src/kube/KubeClient.ts"
import type { MutatingWebhookConfiguration } from "../../src/kube/KubeTypes.ts"
import { CaBundle } from "../../src/services/certs/CaBundle.ts"
import { Readiness } from "../../src/services/Readiness.ts"
import { Registrar, type RegistrarTiming, unregister } from "../../src/services/Registrar.ts"
import { WebhookConfig } from "../../src/WebhookConfig.ts"

const pem = (body: string) => `-----BEGIN CERTIFICATE-----\n${Buffer.from(body).toString("base64")}\n-----END CERTIFICATE-----\n`
const BundleA = pem("ca-a")
const BundleB = pem("ca-a") + pem("ca-b")
const b64 = (text: string) => Buffer.from(text).toString("base64")

const Timing: RegistrarTiming = { bundlePoll: "20 millis", backoff: "20 millis", maxBackoff: "80 millis" }

/** world: one fake API server, config, readiness and a bundle the test can change; `registrar` makes replicas. */
const world = (webhook: Record<string, unknown> = {}) =>
  Effect.gen(function*() {
    const bundle = yield* Ref.make(BundleA)
    const base = Layer.mergeAll(
      KubeClient.layerTest({ timeout: "5 seconds", retries: 0, backoff: "1 millis" }),
      WebhookConfig.layerTest({ webhook: { registrationCheckInterval: "300ms", ...webhook } }, { POD_NAMESPACE: "flyte" }),
      Readiness.layer,
      CaBundle.layerTest(bundle)
    )
    return { bundle, base }
  })

const withWorld = <A, E>(
  webhook: Record<string, unknown>,
  body: (bundle: Ref.Ref<string>) => Effect.Effect<A, E, Registrar | KubeClient | FakeKube | Readiness | WebhookConfig | CaBundle>
) =>
  Effect.gen(function*() {
    const { base, bundle } = yield* world(webhook)
    return yield* body(bundle).pipe(Effect.provide(Registrar.layerWith(Timing).pipe(Layer.provideMerge(base))))
  })

/** gate: the registration gate when closed (with its reason), undefined when open. */
const gate = Effect.gen(function*() {
  const { closed } = yield* Readiness.use((r) => r.check)
  return closed.find(([name]) => name === "registration")?.[1]
})
const gateOpen = Readiness.use((r) => r.check).pipe(Effect.map(({ ready }) => (ready ? true : undefined)))

const eventually = <A, R>(check: Effect.Effect<A | undefined, never, R>, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 300; i++) {
      const value = yield* check
      if (value !== undefined) return value
      yield* Effect.sleep("10 millis")
    }
    return yield* Effect.die(new Error(`timed out waiting for ${what}`))
  })

const stored = FakeKube.useSync((fake) => fake.webhookConfiguration("flyte-pod-webhook"))
const applies = FakeKube.useSync((fake) => fake.calls().filter((c) => c.operation === "applyWebhookConfiguration").length)

describe("Registrar.register", () => {
  it.live("applies spec section 5 (ours: sideEffects None, policies from config) by server-side apply", () =>
    withWorld({ namespaceSelector: { matchLabels: { team: "ml" } }, failurePolicy: "Ignore", timeoutSeconds: 5 }, () =>
      Effect.gen(function*() {
        const registrar = yield* Registrar
        const outcome = yield* registrar.register(BundleA)
        assert.deepStrictEqual(outcome, { _tag: "Applied", created: true, differences: [] })
        const live = (yield* stored) as MutatingWebhookConfiguration
        assert.deepStrictEqual(live.metadata.labels, {
          "app.kubernetes.io/name": "flyte-pod-webhook",
          "app.kubernetes.io/managed-by": "flyte-pod-webhook"
        })
        assert.deepStrictEqual(live.webhooks, [{
          name: "flyte-pod-webhook.flyte.org",
          clientConfig: {
            service: { name: "flyte-pod-webhook", namespace: "flyte", path: "/mutate--v1-pod", port: 443 },
            caBundle: b64(BundleA)
          },
          rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], scope: "*" }],
          objectSelector: { matchLabels: { "inject-flyte-secrets": "true" } },
          namespaceSelector: { matchLabels: { team: "ml" } },
          admissionReviewVersions: ["v1", "v1beta1"],
          sideEffects: "None",
          failurePolicy: "Ignore",
          matchPolicy: "Equivalent",
          timeoutSeconds: 5,
          reinvocationPolicy: "IfNeeded"
        }])
      })))

  it.live("the same content twice makes no write, even after the API server's defaulting", () =>
    withWorld({}, () =>
      Effect.gen(function*() {
        const registrar = yield* Registrar
        yield* registrar.register(BundleA)
        const version = (yield* stored)?.metadata.resourceVersion
        assert.deepStrictEqual(yield* registrar.register(BundleA), { _tag: "Unchanged" })
        assert.strictEqual(yield* applies, 1)
        assert.strictEqual((yield* stored)?.metadata.resourceVersion, version)
      })))

  it.live("several replicas registering at once converge on one object without flapping", () =>
    withWorld({}, () =>
      Effect.gen(function*() {
        const replica = Registrar.use((r) => r.register(BundleB)).pipe(Effect.provide(Registrar.layerWith(Timing)))
        yield* Effect.all([replica, replica, replica], { concurrency: 3 })
        const version = (yield* stored)?.metadata.resourceVersion
        for (let round = 0; round < 3; round++) {
          const outcomes = yield* Effect.all([replica, replica, replica], { concurrency: 3 })
          assert.deepStrictEqual(outcomes.map((o) => o._tag), ["Unchanged", "Unchanged", "Unchanged"])
        }
        assert.strictEqual((yield* stored)?.metadata.resourceVersion, version)
        assert.strictEqual((yield* stored)?.webhooks?.[0]?.clientConfig.caBundle, b64(BundleB))
      })))

  it.live("URL mode registers clientConfig.url instead of the Service", () =>
    withWorld({ webhookUrl: "https://127.0.0.1:9443/mutate--v1-pod" }, () =>
      Effect.gen(function*() {
        yield* Registrar.use((r) => r.register(BundleA))
        assert.deepStrictEqual((yield* stored)?.webhooks?.[0]?.clientConfig, {
          url: "https://127.0.0.1:9443/mutate--v1-pod",
          caBundle: b64(BundleA)
        })
      })))

  it.live("caBundle-only mode (GitOps) patches caBundle of the existing object and nothing else; absent = nothing created", () =>
    withWorld({ disableCreateMutatingWebhookConfig: true, manageCaBundleOnly: true }, () =>
      Effect.gen(function*() {
        const registrar = yield* Registrar
        const fake = yield* FakeKube
        assert.strictEqual(registrar.mode, "caBundleOnly")
        assert.deepStrictEqual(yield* registrar.register(BundleA), { _tag: "Absent" })
        assert.isUndefined(yield* stored)
        const gitops = fake.putWebhookConfiguration({
          metadata: { name: "flyte-pod-webhook" },
          webhooks: [{
            name: "flyte-pod-webhook.flyte.org",
            clientConfig: { service: { name: "flyte-pod-webhook", namespace: "flyte", path: "/mutate--v1-pod" } },
            admissionReviewVersions: ["v1"],
            sideEffects: "None",
            failurePolicy: "Ignore"
          }]
        })
        assert.deepStrictEqual(yield* registrar.register(BundleB), { _tag: "Patched", webhooks: 1 })
        const live = (yield* stored) as MutatingWebhookConfiguration
        const [before] = gitops.webhooks ?? []
        assert.deepStrictEqual(live.webhooks as unknown, [{ ...before, clientConfig: { ...before?.clientConfig, caBundle: b64(BundleB) } }])
        assert.deepStrictEqual(yield* registrar.register(BundleB), { _tag: "Unchanged" })
        assert.strictEqual(yield* applies, 0)
      })))

  it.live("unregister deletes the configuration; NotFound is fine", () =>
    withWorld({}, () =>
      Effect.gen(function*() {
        yield* Registrar.use((r) => r.register(BundleA))
        assert.strictEqual(yield* unregister, "deleted")
        assert.isUndefined(yield* stored)
        assert.strictEqual(yield* unregister, "absent")
      })))
})

describe("Registrar.run", () => {
  it.live("opens the gate once registered, follows a CA change and repairs drift at the check interval", () =>
    withWorld({}, (bundle) =>
      Effect.gen(function*() {
        const registrar = yield* Registrar
        const fake = yield* FakeKube
        const fiber = yield* Effect.forkChild(registrar.run)
        yield* eventually(gateOpen, "registration gate open")
        yield* Ref.set(bundle, BundleB)
        yield* eventually(
          Effect.map(stored, (c) => (c?.webhooks?.[0]?.clientConfig.caBundle === b64(BundleB) ? true : undefined)),
          "caBundle updated"
        )
        const drifted = (yield* stored) as MutatingWebhookConfiguration
        fake.putWebhookConfiguration({
          ...drifted,
          webhooks: drifted.webhooks?.map((w) => ({ ...w, failurePolicy: "Ignore" })) ?? []
        })
        yield* eventually(
          Effect.map(stored, (c) => (c?.webhooks?.[0]?.failurePolicy === "Fail" ? true : undefined)),
          "drift repaired"
        )
        yield* Fiber.interrupt(fiber)
      })))

  it.live("forbidden: the gate stays closed naming the rule to grant, retries with backoff, then recovers", () =>
    withWorld({}, () =>
      Effect.gen(function*() {
        const fake = yield* FakeKube
        fake.failNext("getWebhookConfiguration", "Forbidden", 3)
        const fiber = yield* Effect.forkChild(Registrar.use((r) => r.run))
        const closed = yield* eventually(Effect.map(gate, (g) => (g?.ready === false && g.reason.includes("forbidden") ? g : undefined)), "closed gate")
        assert.include(
          closed.reason,
          `grant "get" on mutatingwebhookconfigurations.admissionregistration.k8s.io "flyte-pod-webhook" (cluster-scoped: a ClusterRole)`
        )
        yield* eventually(gateOpen, "gate open after recovery")
        // three refusals, then the object is absent (NotFound) and gets applied
        assert.deepStrictEqual(fake.calls().slice(0, 5).map((c) => `${c.operation} ${c.outcome}`), [
          "getWebhookConfiguration failed",
          "getWebhookConfiguration failed",
          "getWebhookConfiguration failed",
          "getWebhookConfiguration failed",
          "applyWebhookConfiguration ok"
        ])
        yield* Fiber.interrupt(fiber)
      })))

  it.live("API server down: not ready, no crash, registers when it is back", () =>
    withWorld({}, () =>
      Effect.gen(function*() {
        const fake = yield* FakeKube
        fake.failNext("getWebhookConfiguration", "Unavailable", 4)
        const fiber = yield* Effect.forkChild(Registrar.use((r) => r.run))
        const closed = yield* eventually(Effect.map(gate, (g) => (g?.reason.includes("unavailable") ? g : undefined)), "closed gate")
        assert.isFalse(closed.ready)
        yield* eventually(gateOpen, "registered")
        assert.isDefined(yield* stored)
        yield* Fiber.interrupt(fiber)
      })))

  it.live("disabled by config: nothing is read or written, the gate is open", () =>
    withWorld({ disableCreateMutatingWebhookConfig: true }, () =>
      Effect.gen(function*() {
        const fake = yield* FakeKube
        const fiber = yield* Effect.forkChild(Registrar.use((r) => r.run))
        yield* eventually(gateOpen, "gate open")
        yield* Effect.sleep("100 millis")
        assert.deepStrictEqual(fake.calls(), [])
        yield* Fiber.interrupt(fiber)
      })))
})
