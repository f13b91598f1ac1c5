/**
 * `npm run soak` (not in CI): the webhook under a long mixed load, to show that nothing it holds per request
 * (body bytes, slots, sockets, memory) grows while it runs or stays behind after.
 *
 * The webhook runs as `npm run bench` runs it (`serve --embedded`, the image's NODE_OPTIONS, pinned to core 0);
 * the load comes from this process on core 1. First its maximum rate is measured with wrk (5 s), then for
 * SOAK_SECONDS (default 600) requests are sent at a fixed rate of half that maximum (SOAK_RATE overrides), open
 * loop, mixing:
 *   - good reviews (the Flyte task Pod fixture), about 88 %;
 *   - malformed bodies (cut JSON, wrong content type, an unknown path), about 6 %;
 *   - slow uploads (the body sent over 0.3-1.8 s in pieces; the slowest meet their 1.5 s deadline), about 3 %;
 *   - stalled uploads (all but the last byte, then nothing; their 2 s deadline answers them), about 2 %;
 *   - oversized bodies (7.5 MB, refused with 413 after draining), about 1 per second at most.
 * Every 30 s it prints the webhook's RSS and V8 heap and its in-flight / queued / held-body-bytes gauges
 * (from /metrics). At the end it stops the load, waits for the stalled ones' deadlines, and checks that the
 * gauges are back at 0 and that a normal review still gets 200 with its patch. Exit 1 if not.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as https from "node:https"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import * as tls from "node:tls"
import { benchFiles, imageEnv, pin, root } from "./Servers.ts"

const seconds = Number(process.env["SOAK_SECONDS"] ?? 600)

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const work = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-soak-"))
const { caPem, writeConfig } = benchFiles(work)
const fixture = fs.readFileSync(path.join(root, "bench/flyte-task-pod-review.json"), "utf8")
const [port, probePort] = [await freePort(), await freePort()]
const config = writeConfig("config.yaml", { port, probe: probePort })

const [command, argv] = pin(0, process.execPath, ["bin/flyte-pod-webhook.js", "serve", "--embedded", "--config", config])
const base = { ...process.env }
delete base["NODE_OPTIONS"]
// As the image runs it: the Dockerfile's ENV (NODE_ENV=production and its NODE_OPTIONS).
const webhook = spawn(command, argv, { cwd: root, stdio: ["ignore", "ignore", "inherit"], env: { ...base, ...imageEnv() } })
process.on("exit", () => webhook.kill("SIGKILL"))

const metrics = async (): Promise<Map<string, number>> => {
  const text = await fetch(`http://127.0.0.1:${probePort}/metrics`).then((r) => r.text())
  return new Map(text.split("\n").filter((l) => l !== "" && !l.startsWith("#")).map((l) => {
    const at = l.lastIndexOf(" ")
    return [l.slice(0, at), Number(l.slice(at + 1))] as const
  }))
}

for (let i = 0; ; i++) {
  const ready = await fetch(`http://127.0.0.1:${probePort}/readyz`).then((r) => r.status === 200, () => false)
  if (ready) break
  if (i > 200) throw new Error("the webhook did not become ready")
  await sleep(100)
}

const url = `https://127.0.0.1:${port}/mutate`
let rate = Number(process.env["SOAK_RATE"] ?? 0)
if (rate === 0) {
  const bodyFile = path.join(root, "bench/flyte-task-pod-review.json")
  const [c, a] = pin(1, "wrk", ["-t1", "-c25", "-d5s", "-s", path.join(root, "bench/post.lua"), url])
  const run = spawnSync(c, a, { env: { ...process.env, BENCH_BODY: bodyFile }, encoding: "utf8" })
  if (run.status !== 0) throw new Error(`wrk failed (install it: apt-get install -y wrk): ${run.stderr}`)
  const max = Number(/Requests\/sec:\s+([\d.]+)/.exec(run.stdout)?.[1] ?? 0)
  rate = Math.max(1, Math.round(max / 2))
  console.log(`maximum ${Math.round(max)} req/s (wrk, 25 connections, 5 s); soaking at ${rate} req/s for ${seconds} s`)
} else {
  console.log(`soaking at ${rate} req/s (SOAK_RATE) for ${seconds} s`)
}

const agent = new https.Agent({ keepAlive: true, maxSockets: 64, ca: caPem })
const counts = new Map<string, number>()
const count = (key: string) => counts.set(key, (counts.get(key) ?? 0) + 1)

const withUid = (uid: string) => fixture.replace(/"uid":\s*"[^"]*"/, `"uid": "${uid}"`)
const post = (label: string, body: string | Buffer, headers: Record<string, string> = {}, p = "/mutate?timeout=10s") => {
  const req = https.request({
    host: "127.0.0.1", port, path: p, method: "POST", agent,
    headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)), ...headers }
  }, (res) => {
    res.resume()
    res.on("end", () => count(`${label} ${res.statusCode}`))
  })
  req.on("error", () => count(`${label} error`))
  req.end(body)
}

/** rawUpload sends a body in pieces over its own TLS connection; `stallAtEnd` leaves out the last byte. */
const rawUpload = (label: string, body: string, spreadMs: number, stallAtEnd: boolean) => {
  const socket = tls.connect({ host: "127.0.0.1", port, ca: caPem, servername: "localhost" }, async () => {
    socket.write(`POST /mutate?timeout=2s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`)
    const bytes = Buffer.from(stallAtEnd ? body.slice(0, -1) : body)
    const pieces = 8
    for (let i = 0; i < pieces && !socket.destroyed; i++) {
      socket.write(bytes.subarray(Math.floor((i * bytes.length) / pieces), Math.floor(((i + 1) * bytes.length) / pieces)))
      await sleep(spreadMs / pieces)
    }
  })
  let status = ""
  socket.on("data", (c: Buffer) => (status ||= /^HTTP\/1\.1 (\d{3})/.exec(c.toString("latin1"))?.[1] ?? ""))
  socket.on("error", () => {})
  socket.on("close", () => count(`${label} ${status || "closed"}`))
}

const oversized = Buffer.alloc(7_500_000, 0x20)
let lastOversized = 0
let sent = 0
const send = (i: number) => {
  const roll = (i * 7919) % 1000 // deterministic mix
  if (roll < 880) return post("good", withUid(`soak-${i}`))
  if (roll < 900) return post("cut-json", withUid(`soak-${i}`).slice(0, 500))
  if (roll < 920) return post("wrong-type", withUid(`soak-${i}`), { "content-type": "text/plain" })
  if (roll < 940) return post("no-route", withUid(`soak-${i}`), {}, "/validate")
  if (roll < 970) return rawUpload("slow", withUid(`soak-${i}`), 300 + (i % 1500), false)
  if (roll < 990) return rawUpload("stalled", withUid(`soak-${i}`), 500, true)
  const now = performance.now()
  if (now - lastOversized < 1000) return post("good", withUid(`soak-${i}`))
  lastOversized = now
  return post("oversized", oversized)
}

const report = async (label: string) => {
  const m = await metrics()
  const mib = (bytes: number | undefined) => `${((bytes ?? 0) / 1048576).toFixed(1)} MiB`
  console.log(
    `${label.padEnd(8)} RSS ${mib(m.get("process_resident_memory_bytes"))}, heap ${mib(m.get("nodejs_heap_size_used_bytes"))}` +
      ` / ${mib(m.get("nodejs_heap_size_total_bytes"))}; in flight ${m.get("flyte_pod_webhook_requests_in_flight")},` +
      ` queued ${m.get("flyte_pod_webhook_requests_queued")}, body bytes held ${m.get("flyte_pod_webhook_request_body_bytes_held")};` +
      ` sent ${sent}, answered ${[...counts.values()].reduce((a, b) => a + b, 0)}`
  )
  return m
}

const started = performance.now()
let nextReport = 30
await report("0 s")
await new Promise<void>((resolve) => {
  const tick = () => {
    const elapsed = (performance.now() - started) / 1000
    const due = Math.min(Math.floor(elapsed * rate), Math.floor(seconds * rate))
    while (sent < due) send(sent++)
    if (elapsed >= nextReport) {
      void report(`${nextReport} s`)
      nextReport += 30
    }
    if (elapsed >= seconds) return resolve()
    setTimeout(tick, 1)
  }
  tick()
})
console.log("load stopped; waiting 5 s for the last deadlines and slow uploads")
await sleep(5_000)
const end = await report("end")
const last = await new Promise<{ status: number; body: string }>((resolve, reject) => {
  const req = https.request({ host: "127.0.0.1", port, path: "/mutate?timeout=10s", method: "POST", ca: caPem, agent: false,
    headers: { "content-type": "application/json" } }, (res) => {
    let body = ""
    res.on("data", (c) => (body += c))
    res.on("end", () => resolve({ status: res.statusCode ?? 0, body }))
  })
  req.on("error", reject)
  req.end(withUid("after-soak"))
})
agent.destroy()
console.log("answers by kind and status:")
for (const [key, n] of [...counts].sort()) console.log(`  ${key.padEnd(22)} ${n}`)
const checks: Array<[string, boolean]> = [
  ["in flight back at 0", end.get("flyte_pod_webhook_requests_in_flight") === 0],
  ["queued back at 0", end.get("flyte_pod_webhook_requests_queued") === 0],
  ["body bytes held back at 0", end.get("flyte_pod_webhook_request_body_bytes_held") === 0],
  ["a normal review after the soak gets 200 with its patch", last.status === 200 && JSON.parse(last.body).response.patchType === "JSONPatch"],
  ["no good review failed", [...counts.keys()].every((k) => !k.startsWith("good ") || k === "good 200")]
]
for (const [name, ok] of checks) console.log(`${ok ? "PASS" : "FAIL"}  ${name}`)
webhook.kill("SIGTERM")
fs.rmSync(work, { recursive: true, force: true })
process.exit(checks.every(([, ok]) => ok) ? 0 : 1)
