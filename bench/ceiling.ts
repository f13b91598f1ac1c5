/**
 * The benchmark's ceiling: a bare `node:https` server that reads the body, `JSON.parse`s it and answers a
 * fixed patch for its uid. Same TLS and keep-alive settings as the webhook; nothing else.
 * Usage: node bench/ceiling.ts <port> <certDir>
 */
import * as fs from "node:fs"
import * as https from "node:https"
import * as path from "node:path"

const [port = "9543", certDir = "."] = process.argv.slice(2)
const patch = Buffer.from(JSON.stringify([{ op: "add", path: "/metadata/labels/bench", value: "true" }])).toString("base64")

const server = https.createServer({
  cert: fs.readFileSync(path.join(certDir, "tls.crt")),
  key: fs.readFileSync(path.join(certDir, "tls.key")),
  minVersion: "TLSv1.2",
  ALPNProtocols: ["http/1.1"],
  keepAliveTimeout: 120_000
}, (req, res) => {
  const chunks: Array<Buffer> = []
  req.on("data", (c: Buffer) => chunks.push(c))
  req.on("end", () => {
    const review = JSON.parse(Buffer.concat(chunks).toString("utf8"))
    const body = JSON.stringify({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: review.request.uid, allowed: true, patchType: "JSONPatch", patch }
    })
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) })
    res.end(body)
  })
})
server.listen(Number(port), "127.0.0.1", () => console.log(`ceiling listening on ${port}`))
process.on("SIGTERM", () => server.close(() => process.exit(0)))
