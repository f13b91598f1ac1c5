/**
 * CertService.ensureSecret against the fake API server: create, leave alone, renew, and the races
 * (AlreadyExists, Conflict), RBAC refusals and transient failures.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { FakeKube, KubeClient } from "../../src/kube/KubeClient.ts"
import { CertService } from "../../src/services/CertService.ts"
import { EmptyMaterial, fromSecretData, toSecretData } from "../../src/services/certs/CertMaterial.ts"
import { renewMaterial } from "../../src/services/certs/Renewal.ts"
import { WebhookConfig } from "../../src/WebhookConfig.ts"
import { DayMs, settings, x509 } from "./fixtures.ts"

const SecretName = "flyte-pod-webhook-secret"

const testLayer = CertService.layer.pipe(
  Layer.provideMerge(
    Layer.mergeAll(KubeClient.layerTest(), WebhookConfig.layerTest({ webhook: { caKeySize: 2048 } }, { POD_NAMESPACE: "flyte" }))
  )
)

const writes = (fake: FakeKube["Service"]) =>
  fake.calls().filter((call) => call.operation !== "getSecret" && call.outcome === "ok").map((call) => call.operation)

/** seed stores material issued `daysAgo` days ago (so it may be due). */
const seed = (daysAgo: number) =>
  Effect.gen(function*() {
    const fake = yield* FakeKube
    const { material } = yield* renewMaterial(EmptyMaterial, new Date(Date.now() - daysAgo * DayMs), settings())
    fake.putSecret({ metadata: { name: SecretName, namespace: "flyte" }, type: "Opaque", data: toSecretData(material) })
    return material
  })

describe("CertService.ensureSecret", () => {
  it.live("creates the Secret with ca.crt, ca.key, tls.crt, tls.key; a second run writes nothing", () =>
    Effect.gen(function*() {
      const certs = yield* CertService
      const fake = yield* FakeKube
      const first = yield* certs.ensureSecret
      assert.strictEqual(first.action, "created")
      const stored = fake.secret("flyte", SecretName)
      assert.deepStrictEqual(Object.keys(stored?.data ?? {}).sort(), ["ca.crt", "ca.key", "tls.crt", "tls.key"])
      assert.strictEqual(stored?.metadata.labels?.["app.kubernetes.io/managed-by"], "flyte-pod-webhook")
      const second = yield* certs.ensureSecret
      assert.strictEqual(second.action, "unchanged")
      assert.deepStrictEqual(writes(fake), ["createSecret"])
      assert.strictEqual(fake.secret("flyte", SecretName)?.metadata.resourceVersion, stored?.metadata.resourceVersion)
    }).pipe(Effect.provide(testLayer)))

  it.live("two concurrent runs: one CA wins, the loser re-reads, both agree and exit cleanly", () =>
    Effect.gen(function*() {
      const certs = yield* CertService
      const fake = yield* FakeKube
      fake.barrier("createSecret", 2) // both creates arrive before either is answered
      const [a, b] = yield* Effect.all([certs.ensureSecret, certs.ensureSecret], { concurrency: 2 })
      assert.deepStrictEqual([a.action, b.action].sort(), ["created", "unchanged"])
      assert.strictEqual(Math.max(a.attempts, b.attempts), 2)
      assert.strictEqual(a.material.caCrt, b.material.caCrt)
      assert.strictEqual(a.material.tlsCrt, b.material.tlsCrt)
      const final = fromSecretData(fake.secret("flyte", SecretName)?.data)
      assert.strictEqual(final.caCrt, a.material.caCrt)
      assert.deepStrictEqual(
        fake.calls().filter((c) => c.operation === "createSecret").map((c) => c.outcome).sort(),
        ["failed", "ok"]
      )
    }).pipe(Effect.provide(testLayer)))

  it.live("an expiring Secret is renewed with the same CA; a Conflict on update re-reads and retries", () =>
    Effect.gen(function*() {
      const certs = yield* CertService
      const fake = yield* FakeKube
      const old = yield* seed(300) // serving certificate: 365 days, due after ~243
      fake.failNext("replaceSecret", "Conflict")
      const outcome = yield* certs.ensureSecret
      assert.strictEqual(outcome.action, "updated")
      assert.strictEqual(outcome.attempts, 2)
      assert.strictEqual(outcome.material.caCrt, old.caCrt)
      assert.strictEqual(outcome.material.caKey, old.caKey)
      assert.isTrue(x509(outcome.material.tlsCrt).verify(x509(old.caCrt).publicKey))
      assert.isAbove(x509(outcome.material.tlsCrt).validToDate.getTime(), Date.now() + 364 * DayMs)
    }).pipe(Effect.provide(testLayer)))

  it.live("two concurrent renewals: the loser's update is a Conflict, it re-reads the winner's and leaves it", () =>
    Effect.gen(function*() {
      const certs = yield* CertService
      const fake = yield* FakeKube
      yield* seed(300)
      fake.barrier("replaceSecret", 2)
      const [a, b] = yield* Effect.all([certs.ensureSecret, certs.ensureSecret], { concurrency: 2 })
      assert.deepStrictEqual([a.action, b.action].sort(), ["unchanged", "updated"])
      assert.strictEqual(a.material.tlsCrt, b.material.tlsCrt)
    }).pipe(Effect.provide(testLayer)))

  it.live("RBAC refusal fails with the rule to grant; a transient 500 is retried", () =>
    Effect.gen(function*() {
      const certs = yield* CertService
      const fake = yield* FakeKube
      fake.failNext("getSecret", "Forbidden")
      const refused = yield* certs.ensureSecret.pipe(Effect.flip)
      assert.strictEqual(refused._tag, "Forbidden")
      assert.include(refused.message, `grant "get" on secrets "${SecretName}" in namespace flyte`)
      fake.failNext("createSecret", "Unavailable")
      const created = yield* certs.ensureSecret
      assert.strictEqual(created.action, "created")
    }).pipe(Effect.provide(testLayer)))
})
