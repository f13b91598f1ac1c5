/**
 * Fan-out reviews against the real `serve` process, run with the image's NODE_OPTIONS (a 256 MiB old
 * generation, as in the Deployment): a review whose patch would be huge is refused in-band before the patch is
 * built, and the process lives on with bounded memory. Before the engine bounded the patch, the 2,000 x 300
 * review got a 72 MiB answer (a second of blocked event loop) and the 5,000 x 400 one killed the process.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as https from "node:https"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { encodeSecret } from "../../src/domain/SecretAnnotation.ts"
import { secret } from "../fixtures/Engine.ts"
import { pod, review } from "../fixtures/Pods.ts"
import { ca, probe, serving } from "./support.ts"

const root = path.resolve(import.meta.dirname, "../..")

/** fanOut: a review of a Pod with `containers` containers asking for `secrets` distinct K8s env secrets. */
const fanOut = (uid: string, containers: number, secrets: number): string => {
  const requests = Array.from({ length: secrets }, (_, i) => secret({ group: `group-${i}`, key: "k", mountRequirement: "ENV_VAR" }))
  const annotations = Object.fromEntries(requests.map((s, i) => [`flyte.secrets/s${i}`, encodeSecret(s)]))
  const spec = { containers: Array.from({ length: containers }, (_, i) => ({ name: `c${i}`, image: "busybox" })) }
  return JSON.stringify(review(pod({ annotations, spec }), { uid }))
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

const post = (port: number, body: string) =>
  new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = https.request({
      host: "127.0.0.1", port, path: "/mutate?timeout=10s", method: "POST", ca: ca.certPem, agent: false,
      headers: { "content-type": "application/json" }
    }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }))
    })
    req.on("error", reject)
    req.end(body)
  })

const peakRssMiB = (pid: number) =>
  Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024

describe("fan-out reviews against serve with the image's heap", () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-fanout-"))
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }))

  it("2,000 x 300 and 5,000 x 400: denied in-band naming maxPatchBytes; the process lives on, its memory bounded", async () => {
    const [port, probePort] = [await freePort(), await freePort()]
    fs.mkdirSync(path.join(work, "certs"))
    fs.writeFileSync(path.join(work, "certs/tls.crt"), serving.certPem)
    fs.writeFileSync(path.join(work, "certs/tls.key"), serving.keyPem)
    fs.writeFileSync(path.join(work, "certs/ca.crt"), ca.certPem)
    fs.writeFileSync(path.join(work, "config.yaml"), [
      "webhook:",
      `  certDir: ${path.join(work, "certs")}`,
      "  listenAddress: 127.0.0.1",
      `  listenPort: ${port}`,
      `  probePort: ${probePort}`,
      "  drainDelay: 0s",
      "secrets:",
      `  secrets-prefix: ${path.join(work, "none")}`,
      ""
    ].join("\n"))
    const child = spawn(process.execPath, ["src/main.ts", "serve", "--embedded", "--config", path.join(work, "config.yaml")], {
      cwd: root,
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, NODE_OPTIONS: "--max-semi-space-size=8 --max-old-space-size=256" }
    })
    let stderr = ""
    child.stderr.on("data", (c) => (stderr = (stderr + c).slice(-4000)))
    try {
      for (let i = 0; ; i++) {
        if ((await probe(probePort, "/readyz").catch(() => undefined))?.status === 200) break
        if (i > 300) throw new Error(`serve did not become ready:\n${stderr}`)
        await new Promise((r) => setTimeout(r, 50))
      }
      for (const [containers, secrets] of [[2000, 300], [5000, 400]] as const) {
        const uid = `fan-out-${containers}x${secrets}`
        const answer = await post(port, fanOut(uid, containers, secrets))
        expect(answer.status).toBe(200)
        const response = JSON.parse(answer.text).response
        expect(response.uid).toBe(uid)
        expect(response.allowed).toBe(false)
        expect(response.patch).toBeUndefined()
        expect(response.status.message).toMatch(new RegExp(`${containers} containers and init containers x ${secrets + 1} env vars`))
        expect(response.status.message).toMatch(/above webhook\.maxPatchBytes \(1048576 bytes\)$/)
        expect(answer.text.length).toBeLessThan(8 * 1024)
      }
      expect((await probe(probePort, "/healthz")).status).toBe(200)
      expect(child.exitCode).toBeNull()
      expect(peakRssMiB(child.pid!)).toBeLessThan(400)
    } finally {
      child.kill("SIGKILL")
    }
  }, 60_000)
})
