/**
 * The webhook's own HTTP path with a constant Mutator: the real WebhookServer (limits, gate, deadline,
 * metrics, logging, TLS reload) answering a fixed patch, so the bench can tell the HTTP layer's cost from the
 * engine's. Usage: node bench/constantWebhook.ts <config.yaml>
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, Layer } from "effect"
import { Mutator } from "../src/admission/Mutator.ts"
import { loggingLayer } from "../src/cli/Serve.ts"
import { WebhookServer } from "../src/http/WebhookServer.ts"
import { Readiness } from "../src/services/Readiness.ts"
import { TlsMaterial } from "../src/services/TlsMaterial.ts"
import { WebhookConfig } from "../src/WebhookConfig.ts"

const patch = Buffer.from(JSON.stringify([{ op: "add", path: "/metadata/labels/bench", value: "true" }])).toString("base64")

const constant = Mutator.layerTest((body) => {
  const uid = String((body as { request?: { uid?: unknown } }).request?.uid ?? "")
  return Effect.succeed({
    review: {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid, allowed: true, patchType: "JSONPatch", patch }
    },
    outcome: "patched" as const,
    uid,
    namespace: "bench",
    pod: "bench",
    secrets: ["bench/bench"],
    managers: [{ manager: "K8s", ok: true }]
  })
})

const config = WebhookConfig.layerFile(process.argv[2])
NodeRuntime.runMain(
  Layer.launch(
    WebhookServer.layer.pipe(Layer.provide([constant, TlsMaterial.layerEmbedded, Readiness.layer]), Layer.provide(config))
  ).pipe(Effect.provide(loggingLayer("Info")))
)
