/**
 * The table `npm run bench:cluster` prints (docs/capacity.md shows one), from its runs' records: per setup the
 * maximum rate and its latency, the highest fixed rate it sustained, the CPU each component spent per Pod, the
 * webhook's share of each Pod's time in the API server, each replica's CPU and memory, and the signals that
 * would show overload (/readyz failures, 429s, the most requests in work at once); then latency per fixed rate,
 * the generator's own cost, and every round.
 */
import type { RunRecord, RunSettings } from "./clusterRun.ts"
import type { SetupName } from "./clusterSetup.ts"
import { meanMs, quantileMs } from "./clusterMeasure.ts"

export const median = (xs: ReadonlyArray<number>): number => {
  const sorted = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b)
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)]!
}

type BySetup = Record<SetupName, Array<RunRecord>>
export interface Results {
  readonly max: BySetup
  readonly byRate: ReadonlyArray<{ readonly rate: number; readonly runs: BySetup }>
}
export interface Context {
  readonly settings: RunSettings
  readonly rounds: number
  readonly pinned: string
  readonly machine: string
  readonly load: string
  readonly minutes: string
  readonly commit: string
}

const Setups: ReadonlyArray<SetupName> = ["none", "one", "two"]
const Label: Record<SetupName, string> = { none: "no webhook", one: "1 replica", two: "2 replicas" }

const f = (x: number, digits = 1) => (Number.isNaN(x) ? "n/a" : x.toFixed(digits))
const ok = (x: number) => (Number.isNaN(x) ? "n/a" : String(Math.round(x)))

/** perPodUs: a process's CPU per Pod created in the window, µs. */
const perPodUs = (cpuMs: number, r: RunRecord) => (r.load.ok > 0 ? (cpuMs * 1000) / r.load.ok : Number.NaN)
const webhookCpu = (r: RunRecord) => r.cpu.replicas.reduce((a, b) => a + b, 0)
const coreShare = (cpuMs: number, r: RunRecord) => (r.load.windowMs > 0 ? (cpuMs / r.load.windowMs) * 100 : Number.NaN)

/** sustained: 0 errors, answers kept pace with the offered rate (>= 95 %), p99 under 1 s. */
export const sustained = (r: RunRecord): boolean => r.load.errors === 0 && r.load.achieved >= 0.95 * r.target && r.load.p99 < 1000

const highestSustained = (results: Results, name: SetupName) => {
  let best: { rate: number; p50: number; p99: number } | undefined
  for (const { rate, runs } of results.byRate) {
    const rs = runs[name]
    const errors = rs.reduce((a, r) => a + r.load.errors, 0)
    const kept = median(rs.map((r) => (sustained(r) ? 1 : 0))) === 1
    if (errors === 0 && kept && (best === undefined || rate > best.rate)) {
      best = { rate, p50: median(rs.map((r) => r.load.p50)), p99: median(rs.map((r) => r.load.p99)) }
    }
  }
  return best
}

/** share: the webhook's own mean time and the API server's mean call time, against the Pod POST's mean. */
const shares = (rs: ReadonlyArray<RunRecord>) => {
  const own = median(rs.map((r) => meanMs(r.readings.webhook)))
  const call = median(rs.map((r) => meanMs(r.readings.webhookCall)))
  const mutating = median(rs.map((r) => meanMs(r.readings.mutating)))
  const post = median(rs.map((r) => meanMs(r.readings.request)))
  return { own, call, mutating, post, ownP99: median(rs.map((r) => quantileMs(r.readings.webhook, 0.99))), callP99: median(rs.map((r) => quantileMs(r.readings.webhookCall, 0.99))) }
}

const table = (header: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<string>>) =>
  [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n")

export const report = (results: Results, ctx: Context): string => {
  const out: Array<string> = []
  const s = ctx.settings
  out.push("", `bench:cluster at commit ${ctx.commit}: ${ctx.machine}; ${ctx.load}; ${ctx.minutes} min in all`)
  const loads = [...Setups.flatMap((n) => results.max[n]), ...results.byRate.flatMap((x) => Setups.flatMap((n) => x.runs[n]))].map((r) => r.loadAverage)
  out.push(`1-minute load average over the runs: min ${f(Math.min(...loads))}, median ${f(median(loads))}, max ${f(Math.max(...loads))} (2 cores; other work shares the machine)`)
  out.push(`pinning: ${ctx.pinned}`)
  out.push(`runs: ${s.seconds} s counted after ${s.warmup} s uncounted; maximum = ${s.concurrency} creations in flight over ${s.sessions} HTTP/2 connections; median of ${ctx.rounds} rounds, setups in reversed order every other round`, "")

  const noneMax = results.max.none
  out.push(table(
    ["setup", "max Pods/s", "vs no webhook", "p50 / p99 at max (ms)", "highest sustained fixed rate", "p50 / p99 there (ms)", "API server CPU per Pod (µs)", "etcd CPU per Pod (µs)", "webhook CPU per Pod (µs)", "each replica at max: CPU % of a core, RSS MiB"],
    Setups.map((name) => {
      const rs = results.max[name]
      const best = highestSustained(results, name)
      const ratio = median(rs.map((r, i) => r.load.achieved / (noneMax[i]?.load.achieved ?? Number.NaN)))
      const replicas = rs[0]?.cpu.replicas.map((_, i) =>
        `${f(median(rs.map((r) => coreShare(r.cpu.replicas[i]!, r))), 0)} %, ${f(median(rs.map((r) => r.rssMiB[i]!)), 0)}`).join("; ")
      return [
        Label[name],
        ok(median(rs.map((r) => r.load.achieved))),
        name === "none" ? "1" : f(ratio, 2),
        `${f(median(rs.map((r) => r.load.p50)))} / ${f(median(rs.map((r) => r.load.p99)))}`,
        best === undefined ? "none of the rates" : `${best.rate}/s`,
        best === undefined ? "" : `${f(best.p50)} / ${f(best.p99)}`,
        ok(median(rs.map((r) => perPodUs(r.cpu.apiserver, r)))),
        ok(median(rs.map((r) => perPodUs(r.cpu.etcd, r)))),
        name === "none" ? "" : ok(median(rs.map((r) => perPodUs(webhookCpu(r), r)))),
        name === "none" ? "" : replicas ?? ""
      ]
    })
  ))

  out.push("", "Latency of Pod creation at fixed rates (client side, from when each Pod was due), and the webhook's part of the API server's time per Pod (means, from the webhook's own histogram and the API server's):")
  out.push(table(
    ["Pods/s", ...Setups.map((n) => `${Label[n]} p50 / p99 (ms)`), "p50 added by 1 / 2 replicas (paired, ms)", "1 replica: webhook / API server's call / mutating admission / whole POST (ms)", "2 replicas: same", "errors (none / 1 / 2)"],
    results.byRate.map(({ rate, runs }) => {
      const lat = (n: SetupName) => {
        const rs = runs[n]
        const mark = median(rs.map((r) => (sustained(r) ? 1 : 0))) === 1 ? "" : " (not sustained)"
        return `${f(median(rs.map((r) => r.load.p50)))} / ${f(median(rs.map((r) => r.load.p99)))}${mark}`
      }
      const share = (n: SetupName) => {
        const x = shares(runs[n])
        return `${f(x.own, 2)} / ${f(x.call, 2)} / ${f(x.mutating, 2)} / ${f(x.post, 2)} (${f((x.call / x.post) * 100, 0)} %)`
      }
      const errors = Setups.map((n) => String(runs[n].reduce((a, r) => a + r.load.errors, 0))).join(" / ")
      const added = (n: SetupName) => f(median(runs[n].map((r, i) => r.load.p50 - (runs.none[i]?.load.p50 ?? Number.NaN))))
      return [String(rate), ...Setups.map(lat), `${added("one")} / ${added("two")}`, share("one"), share("two"), errors]
    })
  ))

  const gen = noneMax.map((r) => perPodUs(r.cpu.generator, r))
  const genShare = median(noneMax.map((r) => coreShare(r.cpu.generator, r)))
  out.push("", `Load generator (no-webhook maximum): ${ok(median(gen))} µs CPU per Pod, ${f(genShare, 0)} % of its core, so its own limit is ~${ok(1e6 / median(gen))} Pods/s on one core; the Service stand-in + readings process: ${ok(median(noneMax.map((r) => perPodUs(r.cpu.proxy, r))))} µs per Pod without a webhook, ${ok(median(results.max.one.map((r) => perPodUs(r.cpu.proxy, r))))} with one.`)
  for (const name of ["one", "two"] as const) {
    const rs = [...results.max[name], ...results.byRate.flatMap((x) => x.runs[name])]
    const webhookUs = median(results.max[name].map((r) => perPodUs(webhookCpu(r), r)))
    out.push(`${Label[name]}: the Service stand-in's event-loop delay (median over runs) p99 ${f(median(rs.map((r) => r.proxyLagMs.p99)))} ms, max ${f(median(rs.map((r) => r.proxyLagMs.max)))} ms`)
    out.push(`${Label[name]}: new connections from the API server per Pod ${f(median(results.max[name].map((r) => r.connections / Math.max(1, r.load.ok))), 3)} at max, ${f(median(results.byRate.flatMap((x) => x.runs[name]).map((r) => r.connections / Math.max(1, r.load.ok))), 3)} at fixed rates`)
    out.push(`${Label[name]}: /readyz failures ${rs.reduce((a, r) => a + r.readyzFailures, 0)}, 429s (requests_total{outcome="rejected"}) ${rs.reduce((a, r) => a + r.readings.rejected, 0)}, most requests in work at once ${Math.max(...rs.map((r) => r.inFlightPeak))} (maxInFlight 64); one replica's core saturates at ~${ok(1e6 / webhookUs)} Pods/s (its CPU per Pod; the deployment at ${name === "two" ? 2 : 1}x that), which is where queueing, then 429s, would begin.`)
  }

  out.push("", "Every round (max Pods/s; at max p99 ms):")
  for (const name of Setups) {
    out.push(`  ${Label[name].padEnd(11)} ${results.max[name].map((r) => ok(r.load.achieved)).join(" ")}; p99 ${results.max[name].map((r) => f(r.load.p99, 0)).join(" ")}`)
  }
  out.push("Every round at fixed rates (p50 / p99 ms):")
  for (const { rate, runs } of results.byRate) {
    out.push(`  ${String(rate).padStart(5)}/s ${Setups.map((n) => `${Label[n]}: ${runs[n].map((r) => `${f(r.load.p50)}/${f(r.load.p99, 0)}`).join(" ")}`).join("; ")}`)
  }
  return out.join("\n")
}
