/**
 * The platform floor: the least an Effect program on @effect/platform-node can cost per request on this stack.
 * The same node:https listener as the webhook (src/http/AdmissionListener.ts: its limits and TLS options), run by
 * NodeHttpServer with tracing off, and a program that only reads the body, `JSON.parse`s it and answers the
 * ceiling's fixed patch (bench/ceiling.ts). No routes, body budget, slots, deadline, metrics, logs or engine.
 * `npm run bench` measures it beside the ceiling, the HTTP layer (bench/constantWebhook.ts) and the webhook, so
 * that every run splits the webhook's cost into: the platform, our HTTP layer over it, and the engine.
 * Usage: node bench/platformFloor.ts <port> <certDir>
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect, References } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import * as fs from "node:fs"
import type * as http from "node:http"
import * as path from "node:path"
import { createAdmissionListener } from "../src/http/AdmissionListener.ts"

const [port = "9843", certDir = "."] = process.argv.slice(2)
const patch = Buffer.from(JSON.stringify([{ op: "add", path: "/metadata/labels/bench", value: "true" }])).toString("base64")

const server = createAdmissionListener({
  cert: fs.readFileSync(path.join(certDir, "tls.crt")),
  key: fs.readFileSync(path.join(certDir, "tls.key")),
  minVersion: "TLSv1.2",
  ALPNProtocols: ["http/1.1"]
}, 1024)

const readBody = (source: http.IncomingMessage) =>
  Effect.callback<Buffer>((resume) => {
    const chunks: Array<Buffer> = []
    source.on("data", (chunk: Buffer) => chunks.push(chunk))
    source.on("end", () => resume(Effect.succeed(Buffer.concat(chunks))))
  })

const app = Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) =>
  Effect.map(readBody(NodeHttpServerRequest.toIncomingMessage(request) as http.IncomingMessage), (body) => {
    const review = JSON.parse(body.toString("utf8"))
    const answer = {
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: review.request.uid, allowed: true, patchType: "JSONPatch", patch }
    }
    return HttpServerResponse.text(JSON.stringify(answer), { contentType: "application/json" })
  }))

NodeRuntime.runMain(
  Effect.gen(function*() {
    const http = yield* NodeHttpServer.make(() => server, { port: Number(port), host: "127.0.0.1" })
    yield* http.serve(Effect.interruptible(app)).pipe(Effect.provideService(References.TracerEnabled, false))
    return yield* Effect.never
  }).pipe(Effect.scoped)
)
