/**
 * One measured run of `npm run bench:cluster`: the load generator (bench/clusterLoad.ts, its own process) for
 * one setup at one rate (or at maximum), and around its counted window the readings that explain it: CPU time
 * of the API server, etcd, each webhook replica, the generator and the proxy; the webhook's own latency
 * histogram and outcome counters summed over its replicas; the API server's admission histograms; /readyz of
 * each replica twice a second. Afterwards the setup's Pods are deleted (one DELETE of the collection; Pods that
 * were never scheduled go at once), so etcd does not grow from run to run.
 */
import { spawn } from "node:child_process"
import * as os from "node:os"
import * as path from "node:path"
import { monitorEventLoopDelay } from "node:perf_hooks"
import * as readline from "node:readline"
import type { Cluster, Setup } from "./clusterSetup.ts"
import type { LoadResult, LoadSpec } from "./clusterLoad.ts"
import { add, counter, cpuMs, emptyHistogram, type Histogram, histogram, memoryMiB, minus } from "./clusterMeasure.ts"

export interface RunSettings {
  readonly seconds: number
  readonly warmup: number
  readonly concurrency: number
  readonly sessions: number
}

export interface Readings {
  readonly webhook: Histogram
  readonly rejected: number
  readonly admitted: number
  /** The API server's time per webhook call (apiserver_admission_webhook_admission_duration_seconds). */
  readonly webhookCall: Histogram
  /** The API server's whole mutating admission step per Pod (all plugins and webhooks). */
  readonly mutating: Histogram
  /** The API server's time per Pod POST (apiserver_request_duration_seconds). */
  readonly request: Histogram
}

export interface RunRecord {
  readonly setup: Setup["name"]
  readonly mode: "rate" | "max"
  readonly target: number
  readonly load: LoadResult
  /** CPU ms during the counted window, per process. */
  readonly cpu: { readonly apiserver: number; readonly etcd: number; readonly replicas: ReadonlyArray<number>; readonly generator: number; readonly proxy: number }
  readonly readings: Readings
  readonly readyzFailures: number
  /** This process's event-loop delay in the window, ms (p99, max): it runs the Service stand-in. */
  readonly proxyLagMs: { readonly p99: number; readonly max: number }
  /** Connections the API server opened to the webhook (through the Service stand-in) in the window. */
  readonly connections: number
  readonly inFlightPeak: number
  readonly rssMiB: ReadonlyArray<number>
  /** The machine's 1-minute load average at the end of the run (other work shares this machine). */
  readonly loadAverage: number
  /** When the run ended (ms since the epoch). */
  readonly endedAt: number
}

// The Service stand-in shares this process's event loop with the readings: a stall here delays the webhook calls.
const lag = monitorEventLoopDelay({ resolution: 5 })
lag.enable()

const podCreate = (labels: Record<string, string>) => labels["operation"] === "CREATE"

const scrapeWebhook = async (setup: Setup) => {
  const texts = await Promise.all(setup.replicas.map((r) =>
    fetch(`http://127.0.0.1:${r.probePort}/metrics`, { signal: AbortSignal.timeout(5_000) }).then((a) => a.text()).catch(() => "")
  ))
  return {
    duration: texts.map((t) => histogram(t, "flyte_pod_webhook_request_duration_seconds")).reduce(add, emptyHistogram),
    rejected: texts.reduce((a, t) => a + counter(t, "flyte_pod_webhook_requests_total", (l) => l["outcome"] === "rejected"), 0),
    admitted: texts.reduce((a, t) => a + counter(t, "flyte_pod_webhook_requests_total", (l) => l["outcome"] === "patched"), 0),
    inFlightPeak: Math.max(0, ...texts.map((t) => counter(t, "flyte_pod_webhook_requests_in_flight_peak")))
  }
}

const scrapeApiServer = async (cluster: Cluster) => {
  const answer = await cluster.api.request("GET", "/metrics", { timeoutMs: 30_000 })
  const text = typeof answer.body === "string" ? answer.body : ""
  return {
    webhookCall: histogram(text, "apiserver_admission_webhook_admission_duration_seconds", (l) => podCreate(l) && l["type"] === "admit"),
    mutating: histogram(text, "apiserver_admission_step_admission_duration_seconds", (l) => podCreate(l) && l["type"] === "admit"),
    request: histogram(text, "apiserver_request_duration_seconds", (l) => l["verb"] === "POST" && l["resource"] === "pods" && (l["subresource"] ?? "") === "")
  }
}

const handed = (setup: Setup) => [...(setup.proxy?.handed.values() ?? [])].reduce((a, b) => a + b, 0)

const cpuNow = (cluster: Cluster, setup: Setup, generator: number) => ({
  connections: handed(setup),
  apiserver: cpuMs(cluster.pids.apiserver),
  etcd: cpuMs(cluster.pids.etcd),
  replicas: setup.replicas.map((r) => cpuMs(r.process.pid!)),
  generator: cpuMs(generator),
  proxy: cpuMs(process.pid)
})

const readyz = async (setup: Setup): Promise<number> => {
  let failures = 0
  await Promise.all(setup.replicas.map(async (r) => {
    const ok = await fetch(`http://127.0.0.1:${r.probePort}/readyz`, { signal: AbortSignal.timeout(2_000) })
      .then((a) => a.status === 200).catch(() => false)
    if (!ok) failures++
  }))
  return failures
}

/** run: one counted window of `mode` at `target` (Pods/s, or creations in flight for max) against `setup`. */
export const run = async (cluster: Cluster, setup: Setup, mode: "rate" | "max", target: number, settings: RunSettings, tag: string): Promise<RunRecord> => {
  const spec: LoadSpec = {
    server: cluster.ctx.server,
    caFile: cluster.ctx.caFile,
    certFile: cluster.creator.certFile,
    keyFile: cluster.creator.keyFile,
    namespace: setup.namespace,
    podFile: cluster.podFile,
    prefix: `task-${tag}`,
    mode,
    rate: mode === "rate" ? target : 0,
    concurrency: mode === "max" ? target : 0,
    seconds: settings.seconds,
    warmup: settings.warmup,
    sessions: settings.sessions,
    expectEnv: setup.expectEnv
  }
  const args = [path.join(import.meta.dirname, "clusterLoad.ts"), JSON.stringify(spec)]
  const child = cluster.generatorCores === undefined
    ? spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] })
    : spawn("taskset", ["-c", cluster.generatorCores, process.execPath, ...args], { stdio: ["ignore", "pipe", "inherit"] })
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
  let before: Awaited<ReturnType<typeof snapshot>> | undefined
  let after: Awaited<ReturnType<typeof snapshot>> | undefined
  let result: LoadResult | undefined
  let readyzFailures = 0
  let lagSeen = { p99: Number.NaN, max: Number.NaN }
  let polling = false
  const poller = setInterval(() => {
    if (polling) return
    polling = true
    void readyz(setup).then((n) => (readyzFailures += n)).finally(() => (polling = false))
  }, 500)
  // At the start the metrics are read first and CPU last; at the end the other way round: the scrapes' own
  // CPU (the API server's /metrics is large) stays outside the counted CPU.
  const snapshot = async (cpuFirst: boolean) => {
    const cpu = cpuFirst ? cpuNow(cluster, setup, child.pid!) : undefined
    const [webhook, apiserver] = await Promise.all([scrapeWebhook(setup), scrapeApiServer(cluster)])
    return { cpu: cpu ?? cpuNow(cluster, setup, child.pid!), webhook, apiserver }
  }
  let chain = Promise.resolve()
  for await (const line of readline.createInterface({ input: child.stdout! })) {
    if (line === "START") chain = chain.then(async () => {
      before = await snapshot(false)
      lag.reset()
    })
    else if (line === "END") chain = chain.then(async () => {
      lagSeen = { p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 }
      after = await snapshot(true)
    })
    else if (line.startsWith("{")) result = JSON.parse(line) as LoadResult
  }
  await chain
  clearInterval(poller)
  const code = await exited
  if (result === undefined || before === undefined || after === undefined) throw new Error(`load generator exited ${code} without a result`)
  const b = before
  const a = after
  const record: RunRecord = {
    setup: setup.name,
    mode,
    target,
    load: result,
    cpu: {
      apiserver: a.cpu.apiserver - b.cpu.apiserver,
      etcd: a.cpu.etcd - b.cpu.etcd,
      replicas: a.cpu.replicas.map((x, i) => x - b.cpu.replicas[i]!),
      generator: result.cpuMs,
      proxy: a.cpu.proxy - b.cpu.proxy
    },
    readings: {
      webhook: minus(a.webhook.duration, b.webhook.duration),
      rejected: a.webhook.rejected - b.webhook.rejected,
      admitted: a.webhook.admitted - b.webhook.admitted,
      webhookCall: minus(a.apiserver.webhookCall, b.apiserver.webhookCall),
      mutating: minus(a.apiserver.mutating, b.apiserver.mutating),
      request: minus(a.apiserver.request, b.apiserver.request)
    },
    readyzFailures,
    proxyLagMs: lagSeen,
    connections: a.cpu.connections - b.cpu.connections,
    inFlightPeak: a.webhook.inFlightPeak,
    rssMiB: setup.replicas.map((r) => memoryMiB(r.process.pid!, "VmRSS")),
    loadAverage: os.loadavg()[0]!,
    endedAt: Date.now()
  }
  await cluster.api.request("DELETE", `/api/v1/namespaces/${setup.namespace}/pods`, { timeoutMs: 300_000 })
  return record
}
