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
 * KEEP_BENCH_TMP=1 (keep the run's folder: logs of every process), BENCH_JSON=<file> (where every run's record is
 * appended as it finishes, JSON lines; default in $TMPDIR). `npm run bench:cluster -- --report <file>` prints the
 * table from such a file again, also from a run cut short.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { run, type RunRecord, type RunSettings } from "./clusterRun.ts"
import { type Cluster, type SetupName, SetupNames, startCluster } from "./clusterSetup.ts"
import { type Context, median, report, type Results } from "./clusterReport.ts"

const settings: RunSettings = {
  seconds: Number(process.env["BENCH_SECONDS"] ?? 5),
  warmup: Number(process.env["BENCH_WARMUP"] ?? 2),
  concurrency: Number(process.env["BENCH_CONCURRENCY"] ?? 64),
  sessions: Number(process.env["BENCH_SESSIONS"] ?? 4)
}
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 5)
const RateFractions = [0.2, 0.35, 0.5, 0.65, 0.8, 1.0]

const log = (line: string) => console.error(`[bench:cluster ${new Date().toISOString().slice(11, 19)}] ${line}`)
const load = () => os.loadavg().map((l) => l.toFixed(2)).join(" ")

/** One line of the records file: the context first, then every run as it finishes. */
type Line =
  | { readonly kind: "context"; readonly context: Omit<Context, "minutes" | "load"> & { readonly loadAtStart: string; readonly started: number } }
  | { readonly kind: "run"; readonly rate: number | undefined; readonly round: number; readonly record: RunRecord }

const records = process.env["BENCH_JSON"] ?? path.join(os.tmpdir(), `bench-cluster-${new Date().toISOString().replace(/[:.]/g, "-")}.jsonl`)
const write = (line: Line) => fs.appendFileSync(records, `${JSON.stringify(line)}\n`)

/** resultsOf: the results in a records file, whole or cut short (a crash keeps what ran). */
const resultsOf = (lines: ReadonlyArray<Line>): Results => {
  const empty = (): Record<SetupName, Array<RunRecord>> => ({ none: [], one: [], two: [] })
  const max = empty()
  const byRate = new Map<number, Record<SetupName, Array<RunRecord>>>()
  for (const line of lines) {
    if (line.kind !== "run") continue
    const into = line.rate === undefined ? max : byRate.get(line.rate) ?? byRate.set(line.rate, empty()).get(line.rate)!
    into[line.record.setup][line.round] = line.record
  }
  const complete = (runs: Record<SetupName, Array<RunRecord>>) => SetupNames.every((n) => runs[n].filter(Boolean).length > 0)
  return {
    max,
    byRate: [...byRate.entries()].filter(([, runs]) => complete(runs)).map(([rate, runs]) => ({
      rate,
      runs: Object.fromEntries(SetupNames.map((n) => [n, runs[n].filter(Boolean)])) as Record<SetupName, Array<RunRecord>>
    }))
  }
}

/** inRounds: `measure` for every setup, `rounds` times, in reversed order every other round. */
const inRounds = async (rate: number | undefined, measure: (setup: SetupName) => Promise<RunRecord>): Promise<Record<SetupName, Array<RunRecord>>> => {
  const out: Record<SetupName, Array<RunRecord>> = { none: [], one: [], two: [] }
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? SetupNames : [...SetupNames].reverse()
    for (const name of order) {
      const record = await measure(name)
      out[name][round] = record
      write({ kind: "run", rate, round, record })
      log(`${rate === undefined ? "max" : `${rate}/s`} round ${round + 1}/${rounds} ${name}: ${record.load.achieved} Pods/s, p50 ${record.load.p50} ms, p99 ${record.load.p99} ms, errors ${record.load.errors}${record.load.firstError === "" ? "" : ` (${record.load.firstError})`}`)
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
  const max = await inRounds(undefined, (name) => run(cluster, setup(name), "max", settings.concurrency, settings, tag()))
  const noneMax = median(max.none.map((r) => r.load.achieved))
  const rates = process.env["BENCH_RATES"] !== undefined
    ? process.env["BENCH_RATES"].split(",").map(Number)
    : RateFractions.map((f) => Math.max(10, Math.round((noneMax * f) / 10) * 10))
  for (const rate of [...new Set(rates)]) await inRounds(rate, (name) => run(cluster, setup(name), "rate", rate, settings, tag()))
}

const print = (file: string) => {
  const lines = fs.readFileSync(file, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Line)
  const head = lines.find((l) => l.kind === "context")
  if (head?.kind !== "context") throw new Error(`${file}: no context line`)
  const last = lines.at(-1)
  const ended = last?.kind === "run" ? last.record.endedAt : head.context.started
  console.log(report(resultsOf(lines), {
    ...head.context,
    load: `load average at the start ${head.context.loadAtStart}, at the end of the last run ${last?.kind === "run" ? last.record.loadAverage.toFixed(2) : "n/a"}`,
    minutes: ((ended - head.context.started) / 60_000).toFixed(1)
  }))
}

const main = async () => {
  const started = Date.now()
  const loadAtStart = load()
  log(`machine: ${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), node ${process.version}, load average ${loadAtStart}`)
  log(`records: ${records} (\`npm run bench:cluster -- --report ${records}\` prints the table again)`)
  const cluster = await startCluster(log)
  try {
    log(`pinning: ${cluster.pinned}`)
    const git = (args: ReadonlyArray<string>) => spawnSync("git", [...args], { encoding: "utf8" }).stdout.trim()
    write({
      kind: "context",
      context: {
        settings,
        rounds,
        pinned: cluster.pinned,
        machine: `${os.cpus().length} cores (${os.cpus()[0]?.model ?? "?"}), node ${process.version}`,
        commit: git(["rev-parse", "--short", "HEAD"]) + (git(["status", "--porcelain", "--untracked-files=no"]) === "" ? "" : " (with local changes)"),
        loadAtStart,
        started
      }
    })
    await measureAll(cluster)
  } finally {
    await cluster.stop()
  }
  print(records)
}

if (process.argv[2] === "--report") print(process.argv[3] ?? "")
else await main()
