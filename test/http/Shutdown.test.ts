/**
 * SIGTERM during requests, on the real `serve` process (node src/main.ts; the signal goes to node's own pid;
 * `--embedded` so that no Kubernetes credentials on the machine can turn on registration):
 * readiness drops at once, answers from then on carry `Connection: close` (a pooled keep-alive connection is
 * served, not cut), requests in flight (one still sending its body) complete, exit code 0.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as https from "node:https"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { ca, probe, send, serving, type Answer } from "./support.ts"

const root = path.resolve(import.meta.dirname, "../..")
const review = fs.readFileSync(path.join(root, "bench/flyte-task-pod-review.json"), "utf8")
const withUid = (uid: string) => {
  const r = JSON.parse(review)
  r.request.uid = uid
  return JSON.stringify(r)
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** slowRequest sends the headers and half the body now, the rest when `finish` is called. */
const slowRequest = (port: number, body: string) => {
  let finish = () => {}
  const answer = new Promise<Answer>((resolve, reject) => {
    const req = https.request({
      host: "127.0.0.1", port, path: "/mutate--v1-pod?timeout=10s", method: "POST", ca: ca.certPem, agent: false,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) }
    }, (res) => {
      let text = ""
      res.on("data", (c) => (text += c))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) }))
    })
    req.on("error", reject)
    const half = Math.floor(body.length / 2)
    req.write(body.slice(0, half))
    finish = () => void req.end(body.slice(half))
  })
  return { answer, finish: () => finish() }
}

describe("graceful shutdown of serve", () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-shutdown-"))
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }))

  it("SIGTERM: not ready at once, in-flight requests complete, exit 0", async () => {
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
      "  drainDelay: 1s",
      "  shutdownTimeout: 10s",
      "secrets:",
      `  secrets-prefix: ${path.join(work, "none")}`,
      ""
    ].join("\n"))
    const child = spawn(process.execPath, ["src/main.ts", "serve", "--embedded", "--config", path.join(work, "config.yaml")], {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (c) => (output += c))
    child.stderr.on("data", (c) => (output += c))
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    try {
      for (let i = 0; ; i++) {
        const ready = await probe(probePort, "/readyz").catch(() => undefined)
        if (ready?.status === 200) break
        if (i > 300) throw new Error(`serve did not become ready:\n${output}`)
        await sleep(50)
      }

      // A keep-alive connection opened before SIGTERM, idle in its client's pool when the signal comes.
      const keepAlive = new https.Agent({ keepAlive: true, maxSockets: 1 })
      const pooled = () => Object.values(keepAlive.freeSockets).flat().length
      expect((await send(port, "/mutate", withUid("before"), { agent: keepAlive })).headers.connection).toBe("keep-alive")
      expect(pooled()).toBe(1)
      const slow = slowRequest(port, withUid("slow-1"))
      await sleep(100) // its headers are in: it holds a slot
      const burst = Array.from({ length: 20 }, (_, i) => send(port, "/mutate", withUid(`burst-${i}`)))
      child.kill("SIGTERM")

      // Readiness fails at once, while the listener still serves during the drain delay.
      let notReady: Answer | undefined
      for (let i = 0; i < 40 && notReady === undefined; i++) {
        const r = await probe(probePort, "/readyz")
        if (r.status === 503) notReady = r
        else await sleep(25)
      }
      expect(notReady?.json()).toStrictEqual({ ready: false, closed: { draining: "shutting down" } })
      const during = await send(port, "/mutate", withUid("during-drain"))
      expect(during.status).toBe(200)
      // The pooled connection was not cut at SIGTERM (a request on its way on it would get EOF): it is still
      // served, and its answer tells the client to close it, so no request can race with our close.
      const reused = await send(port, "/mutate", withUid("during-drain-pooled"), { agent: keepAlive })
      expect(reused.status).toBe(200)
      expect(reused.headers.connection).toBe("close")
      expect(during.headers.connection).toBe("close")
      await sleep(50)
      expect(pooled()).toBe(0)
      keepAlive.destroy()

      // After the drain delay the listener is closed to new connections; the slow request is still in flight.
      let refused = false
      for (let i = 0; i < 200 && !refused; i++) {
        refused = await send(port, "/mutate", withUid("too-late")).then(() => false, (e: Error) => /ECONNREFUSED/.test(e.message))
        if (!refused) await sleep(50)
      }
      expect(refused).toBe(true)
      slow.finish()
      const slowAnswer = await slow.answer
      expect(slowAnswer.status).toBe(200)
      expect(slowAnswer.json().response.uid).toBe("slow-1")
      expect(slowAnswer.json().response.allowed).toBe(true)
      for (const [i, a] of (await Promise.all(burst)).entries()) {
        expect(a.status).toBe(200)
        expect(a.json().response.uid).toBe(`burst-${i}`)
      }
      expect(await exited).toBe(0)
      expect(output).toContain("shutdown: all requests answered")
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL")
    }
  })
})
