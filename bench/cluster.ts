/**
 * `npm run bench:cluster`: what the webhook costs Pod creation through a real API server, not in CI. Starts etcd
 * + kube-apiserver (the e2e build) and the webhook as its CLI behind the Service stand-in (bench/clusterSetup.ts),
 * then creates the Flyte task Pod of bench/flyte-task-pod-review.json (with its secret annotation and inject
 * label) through the API server in three setups: no webhook called, one replica, two replicas.
 *
 * 1. At maximum: `BENCH_CONCURRENCY` creations in flight (closed loop): Pods/s, p50 / p99, CPU per Pod.
 * 2. At fixed rates (open loop): fractions of the no-webhook maximum (or BENCH_RATES=r1,r2,...): p50 / p99, and
 *    whether the setup sustained the rate (0 errors, answers kept pace, p99 under 1 s).
 * Every measurement runs BENCH_ROUNDS times; in each round the three setups run back to back, in reversed order
 * every other round (ABC CBA ...) so that this shared machine speeding up or slowing down favours none of them.
 * Figures are medians over rounds; ratios are medians of per-round ratios. It prints the table docs/capacity.md
 * shows, then every round. Env: BENCH_SECONDS (5), BENCH_WARMUP (2, uncounted, per run), BENCH_ROUNDS (5),
 * BENCH_CONCURRENCY (64), BENCH_SESSIONS (HTTP/2 connections, 4), BENCH_RATES, BENCH_PIN (0: no taskset),
 * KEEP_BENCH_TMP=1 (keep the run's folder: logs of every process), BENCH_JSON=<file> (every run's record).
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import { run, type RunRecord, type RunSettings } from "./clusterRun.ts"
import { type Cluster, type SetupName, SetupNames, startCluster } from "./clusterSetup.ts"
import { median, report } from "./clusterReport.ts"

const settings: RunSettings = {
  seconds: Number(process.env["BENCH_SECONDS"] ?? 5),
  warmup: Number(process.env["BENCH_WARMUP"] ?? 2),
  concurrency: Number(process.env["BENCH_CONCURRENCY"] ?? 64),
  sessions: Number(process.env["BENCH_SESSIONS"] ?? 4)
}
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 5)
const RateFractions = [0.2, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0]

const log = (line: string) => console.error(`[bench:cluster ${new Date().toISOString().slice(11, 19)}] ${line}`)
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(" ")

/** inRounds: `measure` for every setup, `rounds` times, in reversed order every other round. */
const inRounds = async (
  label: string,
  measure: (setup: SetupName, round: number) => Promise<RunRecord>
): Promise<Record<SetupName, Array<RunRecord>>> => {
  const out: Record<SetupName, Array<RunRecord>> = { none: [], one: [], two: [] }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? SetupNames : [...SetupNames].reverse()
    for (const name of order) {
      const record = await measure(name, round)
      out[name][round] = record
      log(`${label} round ${round + 1}/${rounds} ${name}: ${record.load.achieved} Pods/s, p50 ${record.load.p50} ms, p99 ${record.load.p99} ms, errors ${record.load.errors}${record.load.firstError === "" ? "" : ` (${record.load.firstError})`}`)
    }
  }
  return out
}

const measureAll = async (cluster: Cluster) => {
  const setup = (name: SetupName) => cluster.setups.find((s) => s.name === name)!
  let runs = 0
  const tag = () => `${(runs++).toString(36)}`
  log(`warming up each setup at maximum for ${settings.warmup + 3} s (uncounted)`)
  for (const name of SetupNames) await run(cluster, setup(name), "max", settings.concurrency, { ...settings, seconds: 3 }, tag())
  const max = await inRounds("max", (name) => run(cluster, setup(name), "max", settings.concurrency, settings, tag()))
  const noneMax = median(max.none.map((r) => r.load.achieved))
  const rates = process.env["BENCH_RATES"] !== undefined
    ? process.env["BENCH_RATES"].split(",").map(Number)
    : RateFractions.map((f) => Math.max(10, Math.round((noneMax * f) / 10) * 10))
  const byRate: Array<{ rate: number; runs: Record<SetupName, Array<RunRecord>> }> = []
  for (const rate of [...new Set(rates)]) {
    byRate.push({ rate, runs: await inRounds(`${rate}/s`, (name) => run(cluster, setup(name), "rate", rate, settings, tag())) })
  }
  return { max, byRate }
}

const main = async () => {
  const started = Date.now()
  const loadAtStart = load()
  log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), node ${process.version}, load average ${loadAtStart}`)
  const cluster = await startCluster(log)
  try {
    log(`pinning: ${cluster.pinned}`)
    const results = await measureAll(cluster)
    const minutes = ((Date.now() - started) / 60_000).toFixed(1)
    console.log(report(results, {
      settings,
      rounds,
      pinned: cluster.pinned,
      machine: `${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), node ${process.version}`,
      load: `load average at the start ${loadAtStart}, at the end ${load()}`,
      minutes,
      commit: spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).stdout.trim() +
        (spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { encoding: "utf8" }).stdout.trim() === "" ? "" : " (with local changes)")
    }))
    if (process.env["BENCH_JSON"] !== undefined) fs.writeFileSync(process.env["BENCH_JSON"], JSON.stringify(results, null, 1))
  } finally {
    await cluster.stop()
  }
}

await main()
