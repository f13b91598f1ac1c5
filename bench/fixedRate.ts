/**
 * A fixed-rate (open-loop) HTTPS load generator, for latency at a given rate: wrk2 is not packaged in Debian.
 * Requests are due at exact times (rate per second); each one's latency counts from when it was due, not from
 * when a connection was free, so a server that stalls is charged for the requests it delayed (no coordinated
 * omission). Keep-alive connections, up to `connections` at once.
 * Usage: node bench/fixedRate.ts <url> <bodyFile> <rate> <seconds> [connections]; prints one JSON line.
 */
import * as fs from "node:fs"
import * as https from "node:https"

const [url = "", bodyFile = "", rateText = "1000", secondsText = "10", connText = "32"] = process.argv.slice(2)
const body = fs.readFileSync(bodyFile)
const rate = Number(rateText)
const seconds = Number(secondsText)
const target = new URL(url)
const agent = new https.Agent({ keepAlive: true, maxSockets: Number(connText), rejectUnauthorized: false })

const latencies: Array<number> = []
let errors = 0
let due = 0
const total = Math.round(rate * seconds)
const started = performance.now()

const fire = (dueAt: number) => {
  const req = https.request({
    host: target.hostname, port: target.port, path: target.pathname, method: "POST", agent,
    headers: { "content-type": "application/json", "content-length": body.length }
  }, (res) => {
    res.on("data", () => {})
    res.on("end", () => {
      if (res.statusCode === 200) latencies.push(performance.now() - dueAt)
      else errors++
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
  if (latencies.length + errors < total) return
  const sorted = latencies.sort((a, b) => a - b)
  console.log(JSON.stringify({
    rate, seconds, sent: total, ok: sorted.length, errors,
    p50: round(percentile(sorted, 0.5)), p90: round(percentile(sorted, 0.9)), p99: round(percentile(sorted, 0.99)),
    p999: round(percentile(sorted, 0.999)), max: round(sorted[sorted.length - 1] ?? 0)
  }))
  agent.destroy()
}

// Every millisecond (or as soon as the event loop allows), send what has come due since the last tick.
const tick = () => {
  const now = performance.now()
  const shouldHaveSent = Math.min(total, Math.floor(((now - started) / 1000) * rate))
  while (due < shouldHaveSent) {
    fire(started + (due * 1000) / rate)
    due++
  }
  if (due < total) setTimeout(tick, 1)
}
tick()
