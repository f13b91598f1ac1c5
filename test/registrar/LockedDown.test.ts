/**
 * The locked-down registration mode (issue 10, finding 4): with the config the GitOps overlay ships
 * (deploy/overlays/gitops/config.yaml), `serve`'s background work (Registrar + certificate renewal) runs under an
 * identity that may do nothing at all with MutatingWebhookConfigurations: every such call is refused with 403.
 * The webhook must never make one, and its readiness gate `registration` must open at once instead of waiting
 * for a write it cannot do. (rendered.test.ts checks that the overlay and the chart grant nothing there.)
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Ref } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as YAML from "yaml"
import { FakeKube, KubeClient } from "../../src/kube/KubeClient.ts"
import type { Operation } from "../../src/kube/FakeTransport.ts"
import { CertService } from "../../src/services/CertService.ts"
import { CaBundle } from "../../src/services/certs/CaBundle.ts"
import { background } from "../../src/services/certs/CertLifecycle.ts"
import { EmptyMaterial, toSecretData } from "../../src/services/certs/CertMaterial.ts"
import { renewMaterial } from "../../src/services/certs/Renewal.ts"
import { Readiness } from "../../src/services/Readiness.ts"
import { Registrar, registrationMode } from "../../src/services/Registrar.ts"
import { WebhookConfig } from "../../src/WebhookConfig.ts"
import { settings } from "../certs/fixtures.ts"

const overlayConfig = YAML.parse(
  fs.readFileSync(path.resolve(import.meta.dirname, "../../deploy/overlays/gitops/config.yaml"), "utf8")
) as { webhook: Record<string, unknown> }

const RegistrationCalls: ReadonlyArray<Operation> = [
  "getWebhookConfiguration",
  "applyWebhookConfiguration",
  "patchWebhookConfiguration",
  "deleteWebhookConfiguration"
]

const world = Registrar.layerWith({ bundlePoll: "20 millis", backoff: "20 millis", maxBackoff: "80 millis" }).pipe(
  Layer.provideMerge(CertService.layerWith({ checkInterval: "50 millis", propagationGrace: "1 hour" })),
  Layer.provideMerge(Layer.mergeAll(
    KubeClient.layerTest({ timeout: "5 seconds", retries: 0, backoff: "1 millis" }),
    WebhookConfig.layerTest({ ...overlayConfig, webhook: { ...overlayConfig.webhook, caKeySize: 2048 } }, { POD_NAMESPACE: "flyte" }),
    Readiness.layer,
    CaBundle.layerTest(Ref.makeUnsafe("-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n"))
  ))
)

describe("locked-down registration (the GitOps overlay's config)", () => {
  it.live("needs no permission on MutatingWebhookConfigurations: never calls one, and is ready", () =>
    Effect.gen(function*() {
      const config = yield* WebhookConfig
      assert.strictEqual(registrationMode(config.webhook), "off")
      const fake = yield* FakeKube
      for (const operation of RegistrationCalls) fake.failNext(operation, "Forbidden", 1_000)
      const material = (yield* renewMaterial(EmptyMaterial, new Date(), settings())).material
      fake.putSecret({ metadata: { name: "flyte-pod-webhook-secret", namespace: "flyte" }, data: toSecretData(material) })

      const fiber = yield* Effect.forkChild(background)
      const readiness = yield* Readiness
      let gate: { readonly ready: boolean; readonly reason: string } | undefined
      for (let i = 0; i < 100 && gate?.ready !== true; i++) {
        yield* Effect.sleep("10 millis")
        gate = (yield* readiness.check).closed.find(([name]) => name === "registration")?.[1] ?? { ready: true, reason: "" }
      }
      assert.deepStrictEqual(gate, { ready: true, reason: "" }, "the registration gate opens without any registration call")
      yield* Effect.sleep("300 millis") // several bundle polls and renewal checks
      yield* Fiber.interrupt(fiber)
      const calls = fake.calls()
      assert.deepStrictEqual(calls.filter((c) => RegistrationCalls.includes(c.operation)), [], "no call on any registration")
      assert.isAbove(calls.filter((c) => c.operation === "getSecret").length, 1, "renewal still checks the Secret")
    }).pipe(Effect.provide(world)))
})
