/**
 * The Pod-creation load generator of `npm run bench:cluster` (bench/cluster.ts): Pods POSTed to a real
 * kube-apiserver over HTTP/2 (TLS, a client certificate, a few multiplexed connections), so the generator stays
 * far from its own limit: one Node process sends thousands of streams a second, where HTTP/1.1 would need a
 * socket per request in flight. bench/cluster.ts measures its CPU per request in every run and prints it.
 *
 * Two modes, each with `warmup` seconds sent the same way first and left uncounted (a fresh process's code is
 * not optimised yet, and the API server's caches warm up):
 * - `rate`: open loop, Pod i due at start + i / rate; latency counts from when it was due, not from when it was
 *   sent, so a stalled API server is charged for every Pod it delayed (no coordinated omission);
 * - `max`: closed loop, `concurrency` creations in flight at all times; the rate is what the API server answers.
 * Every answer must be 201, and with `expectEnv` the stored Pod must carry that env var (the webhook's
 * injection): anything else counts as an error, by status.
 *
 * Protocol with bench/cluster.ts: one JSON argument; prints `START` when the counted part begins, `END` when
 * its last answer is in, then one JSON line with the results.
 */
import * as fs from "node:fs"
import * as http2 from "node:http2"

export interface LoadSpec {
  readonly server: string
  readonly caFile: string
  readonly certFile: string
  readonly keyFile: string
  readonly namespace: string
  /** A Pod (JSON) whose metadata.name is replaced by `<prefix>-<n>`. */
  readonly podFile: string
  readonly prefix: string
  readonly mode: "rate" | "max"
  readonly rate: number
  readonly concurrency: number
  readonly seconds: number
  readonly warmup: number
  readonly sessions: number
  /** An env var name the stored Pod's first container must have (the webhook's injection), or "". */
  readonly expectEnv: string
}

export interface LoadResult {
  readonly mode: "rate" | "max"
  readonly target: number
  readonly sent: number
  readonly ok: number
  readonly errors: number
  readonly byStatus: Readonly<Record<string, number>>
  readonly firstError: string
  /** Answers counted per second of the counted window. */
  readonly achieved: number
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
  /** The generator's own CPU (user + system) during the counted window, ms. */
  readonly cpuMs: number
  readonly windowMs: number
}

const TimeoutMs = 30_000

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN
const round3 = (ms: number) => Math.round(ms * 1000) / 1000

const main = async (spec: LoadSpec) => {
  const template = JSON.parse(fs.readFileSync(spec.podFile, "utf8"))
  const tls = { ca: fs.readFileSync(spec.caFile), cert: fs.readFileSync(spec.certFile), key: fs.readFileSync(spec.keyFile) }
  const sessions = Array.from({ length: spec.sessions }, () => http2.connect(spec.server, tls))
  await Promise.all(sessions.map((s) => new Promise<void>((resolve, reject) => {
    s.once("connect", () => resolve())
    s.once("error", reject)
  })))
  const path = `/api/v1/namespaces/${spec.namespace}/pods`
  const latencies: Array<number> = []
  const byStatus: Record<string, number> = {}
  let firstError = ""
  let next = 0
  let sent = 0
  let counting = false

  const fail = (key: string, message: string) => {
    byStatus[key] = (byStatus[key] ?? 0) + 1
    if (firstError === "") firstError = `${key}: ${message.slice(0, 300)}`
  }

  /** create: one Pod; resolves when answered; records it when `counted`. */
  const create = (dueAt: number, counted: boolean): Promise<void> =>
    new Promise((resolve) => {
      const n = next++
      template.metadata.name = `${spec.prefix}-${n.toString(36)}`
      const body = JSON.stringify(template)
      const stream = sessions[n % sessions.length]!.request({
        ":method": "POST",
        ":path": path,
        "content-type": "application/json",
        accept: "application/json"
      })
      if (counted) sent++
      let status = 0
      let text = ""
      let finished = false
      const done = (error?: string) => {
        if (finished) return
        finished = true
        if (counted) {
          if (error !== undefined) fail(error, error)
          else if (status !== 201) fail(String(status), text)
          else if (spec.expectEnv !== "" && !text.includes(`"name":"${spec.expectEnv}"`)) fail("201-unmutated", "stored without the injected env var")
          else latencies.push(performance.now() - dueAt)
        }
        resolve()
      }
      stream.setTimeout(TimeoutMs, () => stream.close(http2.constants.NGHTTP2_CANCEL))
      stream.on("response", (headers) => void (status = Number(headers[":status"] ?? 0)))
      stream.setEncoding("utf8")
      stream.on("data", (chunk: string) => void (text += chunk))
      stream.on("end", () => done())
      stream.on("error", (error) => done(`transport ${error.message}`))
      stream.on("close", () => (status === 0 && stream.rstCode !== 0 ? done(`reset ${stream.rstCode}`) : undefined))
      stream.end(body)
    })

  let cpuStart = process.cpuUsage()
  let windowStart = 0
  const startCounting = () => {
    counting = true
    cpuStart = process.cpuUsage()
    windowStart = performance.now()
    process.stdout.write("START\n")
  }

  if (spec.mode === "max") {
    const stopAt = performance.now() + (spec.warmup + spec.seconds) * 1000
    const warm = setTimeout(startCounting, spec.warmup * 1000)
    const worker = async () => {
      while (performance.now() < stopAt) await create(performance.now(), counting)
    }
    await Promise.all(Array.from({ length: spec.concurrency }, worker))
    clearTimeout(warm)
    if (!counting) startCounting() // every creation took longer than the whole run: nothing counted
  } else {
    const warm = Math.round(spec.rate * spec.warmup)
    const total = warm + Math.round(spec.rate * spec.seconds)
    const begin = performance.now()
    const pending: Array<Promise<void>> = []
    let due = 0
    await new Promise<void>((resolve) => {
      const tick = () => {
        const shouldHaveSent = Math.min(total, Math.floor(((performance.now() - begin) / 1000) * spec.rate) + 1)
        while (due < shouldHaveSent) {
          if (due === warm) startCounting()
          pending.push(create(begin + (due * 1000) / spec.rate, due >= warm))
          due++
        }
        if (due < total) setTimeout(tick, 1)
        else resolve()
      }
      tick()
    })
    await Promise.all(pending)
  }
  const windowMs = performance.now() - windowStart
  const cpu = process.cpuUsage(cpuStart)
  process.stdout.write("END\n")
  for (const s of sessions) s.close()
  const sorted = latencies.sort((a, b) => a - b)
  const errors = Object.values(byStatus).reduce((a, b) => a + b, 0)
  const result: LoadResult = {
    mode: spec.mode,
    target: spec.mode === "rate" ? spec.rate : spec.concurrency,
    sent,
    ok: sorted.length,
    errors,
    byStatus,
    firstError,
    achieved: Math.round((sorted.length / windowMs) * 1000 * 10) / 10,
    p50: round3(percentile(sorted, 0.5)),
    p90: round3(percentile(sorted, 0.9)),
    p99: round3(percentile(sorted, 0.99)),
    max: round3(sorted[sorted.length - 1] ?? Number.NaN),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    windowMs: Math.round(windowMs)
  }
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

if (import.meta.main) await main(JSON.parse(process.argv[2] ?? "{}") as LoadSpec)
