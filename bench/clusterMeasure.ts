/**
 * What `npm run bench:cluster` reads besides the load generator's answers: each process's CPU time and memory
 * from /proc (Linux), CPU pinning with `taskset`, and histograms and counters from Prometheus text (the
 * webhook's /metrics and the API server's), diffed between the start and the end of a run.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"

/** cpuMs: user + system CPU time a process has used so far, ms (clock ticks of 10 ms). */
export const cpuMs = (pid: number): number => {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return Number.NaN
  }
}

/** memoryMiB: VmRSS (now) or VmHWM (peak resident set) of a process, MiB. */
export const memoryMiB = (pid: number, field: "VmRSS" | "VmHWM"): number => {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8")
    return Math.round((Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? Number.NaN) / 1024) * 10) / 10
  } catch {
    return Number.NaN
  }
}

/** childPid: the pid of a direct child of this process whose command name (comm) is `comm`. */
export const childPid = (comm: string): number | undefined => {
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8")
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"))
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
      if (name === comm && ppid === process.pid) return Number(entry)
    } catch {
      // gone meanwhile
    }
  }
  return undefined
}

/** pinning: whether there are cores to pin to (2 or more) and `taskset` exists; BENCH_PIN=0 turns it off. */
export const pinning = (): boolean =>
  process.env["BENCH_PIN"] !== "0" && os.cpus().length >= 2 && spawnSync("taskset", ["-V"]).error === undefined

/** pin moves every thread of a running process to `cores` (e.g. "0"); new threads inherit it. */
export const pin = (pid: number, cores: string): void => {
  const ran = spawnSync("taskset", ["-a", "-p", "-c", cores, String(pid)], { encoding: "utf8" })
  if (ran.status !== 0) throw new Error(`taskset -a -p -c ${cores} ${pid}: ${ran.stderr}`)
}

/** Histogram: bucket counts by upper bound, with the sum and count, as diffed between two scrapes. */
export interface Histogram {
  readonly buckets: ReadonlyArray<readonly [number, number]>
  readonly sum: number
  readonly count: number
}

const labelsOf = (text: string): Record<string, string> =>
  Object.fromEntries([...text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((m) => [m[1]!, m[2]!]))

/** series: every sample of metric `name` (exact name) in a Prometheus text exposition. */
export const series = (text: string, name: string): ReadonlyArray<{ readonly labels: Record<string, string>; readonly value: number }> => {
  const out: Array<{ labels: Record<string, string>; value: number }> = []
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue
    const rest = line.slice(name.length)
    if (rest.startsWith("{")) {
      const close = rest.lastIndexOf("}")
      out.push({ labels: labelsOf(rest.slice(1, close)), value: Number(rest.slice(close + 1).trim().split(" ")[0]) })
    } else if (rest.startsWith(" ")) {
      out.push({ labels: {}, value: Number(rest.trim().split(" ")[0]) })
    }
  }
  return out
}

export type LabelFilter = (labels: Record<string, string>) => boolean

/** counter: the sum of every series of `name` that passes `filter`. */
export const counter = (text: string, name: string, filter: LabelFilter = () => true): number =>
  series(text, name).filter((s) => filter(s.labels)).reduce((a, s) => a + s.value, 0)

/** histogram: the histogram `name`, every series that passes `filter` added up. */
export const histogram = (text: string, name: string, filter: LabelFilter = () => true): Histogram => {
  const byLe = new Map<number, number>()
  for (const s of series(text, `${name}_bucket`)) {
    if (!filter(s.labels)) continue
    const le = s.labels["le"] === "+Inf" ? Number.POSITIVE_INFINITY : Number(s.labels["le"])
    byLe.set(le, (byLe.get(le) ?? 0) + s.value)
  }
  return {
    buckets: [...byLe.entries()].sort((a, b) => a[0] - b[0]),
    sum: counter(text, `${name}_sum`, filter),
    count: counter(text, `${name}_count`, filter)
  }
}

/** minus: what happened between two scrapes (`after` - `before`), bucket by bucket. */
export const minus = (after: Histogram, before: Histogram): Histogram => {
  const earlier = new Map(before.buckets)
  return {
    buckets: after.buckets.map(([le, n]) => [le, n - (earlier.get(le) ?? 0)] as const),
    sum: after.sum - before.sum,
    count: after.count - before.count
  }
}

/** add: two histograms with the same buckets (replicas of one deployment). */
export const add = (a: Histogram, b: Histogram): Histogram => {
  const other = new Map(b.buckets)
  const les = new Set([...a.buckets.map(([le]) => le), ...b.buckets.map(([le]) => le)])
  const mine = new Map(a.buckets)
  return {
    buckets: [...les].sort((x, y) => x - y).map((le) => [le, (mine.get(le) ?? 0) + (other.get(le) ?? 0)] as const),
    sum: a.sum + b.sum,
    count: a.count + b.count
  }
}

export const emptyHistogram: Histogram = { buckets: [], sum: 0, count: 0 }

/** meanMs: the mean observation in ms (sum / count), NaN without observations. */
export const meanMs = (h: Histogram): number => (h.count > 0 ? (h.sum / h.count) * 1000 : Number.NaN)

/**
 * quantileMs: the q-quantile in ms, interpolated linearly inside its bucket as Prometheus' histogram_quantile
 * does (so it is only as fine as the buckets).
 */
export const quantileMs = (h: Histogram, q: number): number => {
  const total = h.buckets.at(-1)?.[1] ?? 0
  if (total <= 0) return Number.NaN
  const rank = q * total
  let lower = 0
  let below = 0
  for (const [le, cumulative] of h.buckets) {
    if (cumulative >= rank) {
      if (!Number.isFinite(le)) return lower * 1000
      return (lower + ((le - lower) * (rank - below)) / Math.max(1e-12, cumulative - below)) * 1000
    }
    lower = le
    below = cumulative
  }
  return Number.NaN
}
