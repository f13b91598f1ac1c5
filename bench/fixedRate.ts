/**
 * A fixed-rate (open-loop) HTTPS load generator, for latency at a given rate: wrk2 is not packaged in Debian.
 * Requests are due at exact times (rate per second); each one's latency counts from when it was due, not from
 * when a connection was free, so a server that stalls is charged for the requests it delayed (no coordinated
 * omission). Keep-alive connections, up to `connections` at once.
 *
 * The first `warmup` seconds run at the same rate and are not counted, as wrk2 leaves its calibration period
 * out: this generator is a fresh process whose own code is still interpreted, not yet optimised, and it opens
 * its connections then (a TLS handshake each); counted, that second alone made a p99 of ~110 ms at 4000 req/s
 * against the bare ceiling, whose p99 afterwards is ~5 ms.
 * Usage: node bench/fixedRate.ts <url> <bodyFile> <rate> <seconds> [connections] [warmup seconds, 2];
 * prints one JSON line.
 */
import * as fs from "node:fs"
import * as https from "node:https"

const [url = "", bodyFile = "", rateText = "1000", secondsText = "10", connText = "32", warmupText = "2"] = process.argv.slice(2)
const body = fs.readFileSync(bodyFile)
const rate = Number(rateText)
const seconds = Number(secondsText)
const warmup = Math.round(rate * Number(warmupText)) // requests sent before the measured ones
const target = new URL(url)
const agent = new https.Agent({ keepAlive: true, maxSockets: Number(connText), rejectUnauthorized: false })

const latencies: Array<number> = []
let errors = 0
let done = 0 // warm-up answers
let due = 0
const total = warmup + Math.round(rate * seconds)
const started = performance.now()

const fire = (dueAt: number, counted: boolean) => {
  const req = https.request({
    host: target.hostname, port: target.port, path: target.pathname, method: "POST", agent,
    headers: { "content-type": "application/json", "content-length": body.length }
  }, (res) => {
    res.on("data", () => {})
    res.on("end", () => {
      if (res.statusCode !== 200) errors++
      else if (counted) latencies.push(performance.now() - dueAt)
      else done++
      maybeDone()
    })
  })
  req.on("error", () => {
    errors++
    maybeDone()
  })
  req.end(body)
}

const percentile = (sorted: Array<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0
const round = (ms: number) => Math.round(ms * 1000) / 1000

const maybeDone = () => {
  if (latencies.length + done + errors < total) return
  const sorted = latencies.sort((a, b) => a - b)
  console.log(JSON.stringify({
    rate, seconds, warmup: warmup / rate, sent: total - warmup, ok: sorted.length, errors,
    p50: round(percentile(sorted, 0.5)), p90: round(percentile(sorted, 0.9)), p99: round(percentile(sorted, 0.99)),
    p999: round(percentile(sorted, 0.999)), max: round(sorted[sorted.length - 1] ?? 0)
  }))
  agent.destroy()
}

// Every millisecond (or as soon as the event loop allows), send what has come due since the last tick.
// Request i is due at started + i / rate, so by time t the first floor(t * rate) + 1 are due.
const tick = () => {
  const now = performance.now()
  const shouldHaveSent = Math.min(total, Math.floor(((now - started) / 1000) * rate) + 1)
  while (due < shouldHaveSent) {
    fire(started + (due * 1000) / rate, due >= warmup)
    due++
  }
  if (due < total) setTimeout(tick, 1)
}
tick()
