/**
 * webhook.certSource: secret: one process, no Job, no volume. The source creates the Secret, serves its pair,
 * publishes its bundle, and follows a change another replica made at the next check. And the files-mode
 * background loop renews the Secret through the API.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Ref } from "effect"
import { FakeKube, KubeClient } from "../../src/kube/KubeClient.ts"
import { CertService } from "../../src/services/CertService.ts"
import { CaBundle } from "../../src/services/certs/CaBundle.ts"
import { background } from "../../src/services/certs/CertLifecycle.ts"
import { EmptyMaterial, fromSecretData, toSecretData } from "../../src/services/certs/CertMaterial.ts"
import { renewMaterial } from "../../src/services/certs/Renewal.ts"
import * as SecretTlsMaterial from "../../src/services/certs/SecretTlsMaterial.ts"
import { Readiness } from "../../src/services/Readiness.ts"
import { Registrar } from "../../src/services/Registrar.ts"
import { TlsMaterial } from "../../src/services/TlsMaterial.ts"
import { WebhookConfig } from "../../src/WebhookConfig.ts"
import { DayMs, settings, x509 } from "./fixtures.ts"

const SecretName = "flyte-pod-webhook-secret"
const TestBundle = "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n"

const base = (webhook: Record<string, unknown>) =>
  CertService.layerWith({ checkInterval: "50 millis", propagationGrace: "1 hour" }).pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        KubeClient.layerTest(),
        WebhookConfig.layerTest({ webhook: { caKeySize: 2048, ...webhook } }, { POD_NAMESPACE: "flyte" })
      )
    )
  )

const eventually = <R>(check: Effect.Effect<boolean, never, R>, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 300; i++) {
      if (yield* check) return
      yield* Effect.sleep("10 millis")
    }
    return yield* Effect.die(new Error(`timed out waiting for ${what}`))
  })

describe("certSource: secret", () => {
  it.live("creates the Secret, serves its pair and bundle, and follows another replica's change", () =>
    Effect.gen(function*() {
      const fake = yield* FakeKube
      const tls = yield* TlsMaterial
      const bundle = yield* CaBundle
      const created = fromSecretData(fake.secret("flyte", SecretName)?.data)
      assert.strictEqual((yield* tls.current).fingerprint, x509(created.tlsCrt).fingerprint256)
      assert.strictEqual(yield* bundle.current, created.caCrt)
      const other = (yield* renewMaterial(EmptyMaterial, new Date(), settings())).material
      const live = fake.secret("flyte", SecretName)
      fake.putSecret({ ...live, metadata: { name: SecretName, namespace: "flyte" }, data: toSecretData(other) })
      yield* eventually(Effect.map(tls.current, (pair) => pair.fingerprint === x509(other.tlsCrt).fingerprint256), "new pair")
      assert.strictEqual(yield* bundle.current, other.caCrt)
    }).pipe(Effect.provide(SecretTlsMaterial.layer.pipe(Layer.provideMerge(base({ certSource: "secret" }))))))
})

describe("files mode background", () => {
  it.live("renews a due Secret through the API and registers the webhook", () =>
    Effect.gen(function*() {
      const fake = yield* FakeKube
      const due = (yield* renewMaterial(EmptyMaterial, new Date(Date.now() - 300 * DayMs), settings())).material
      fake.putSecret({ metadata: { name: SecretName, namespace: "flyte" }, data: toSecretData(due) })
      const fiber = yield* Effect.forkChild(background)
      yield* eventually(
        Effect.sync(() => fromSecretData(fake.secret("flyte", SecretName)?.data).tlsCrt !== due.tlsCrt),
        "renewed serving certificate"
      )
      yield* eventually(Effect.sync(() => fake.webhookConfiguration("flyte-pod-webhook") !== undefined), "registration")
      yield* Fiber.interrupt(fiber)
    }).pipe(
      Effect.provide(
        Registrar.layer.pipe(
          Layer.provideMerge(Layer.mergeAll(Readiness.layer, CaBundle.layerTest(Ref.makeUnsafe(TestBundle)))),
          Layer.provideMerge(base({}))
        )
      )
    ))
})
