/**
 * The ceiling's work (read the body, `JSON.parse`, answer a fixed patch) on the webhook's own HTTP/1.1 reader
 * (src/http/Http1.ts) instead of `node:http`: what the listener costs without the engine and everything else,
 * so the bench can show what replacing `node:http` saved. Usage: node bench/http1Ceiling.ts <port> <certDir>
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { createAdmissionServer } from "../src/http/AdmissionServer.ts"
import { parseTlsPair } from "../src/services/TlsPair.ts"

const [port = "9843", certDir = "."] = process.argv.slice(2)
const patch = Buffer.from(JSON.stringify([{ op: "add", path: "/metadata/labels/bench", value: "true" }])).toString("base64")
const pair = parseTlsPair(fs.readFileSync(path.join(certDir, "tls.crt")), fs.readFileSync(path.join(certDir, "tls.key")))

const server = createAdmissionServer(pair, (exchange) => {
  const chunks: Array<Buffer> = []
  exchange.readBody((c) => chunks.push(c), () => {
    const review = JSON.parse(Buffer.concat(chunks).toString("utf8"))
    const body = JSON.stringify({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: review.request.uid, allowed: true, patchType: "JSONPatch", patch }
    })
    exchange.respond(200, { "content-type": "application/json" }, body)
  })
}, (cause) => console.error(cause))
server.server.listen(Number(port), "127.0.0.1", () => console.log(`http1 ceiling listening on ${port}`))
process.on("SIGTERM", () => void server.close(1_000).then(() => process.exit(0)))
