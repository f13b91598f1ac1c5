/**
 * `npm run bench`: the webhook (`serve`, real engine) against a bare Node HTTPS ceiling (bench/ceiling.ts),
 * same machine, same run. Servers pinned to core 0, load generators to core 1 (`taskset`), TLS, keep-alive.
 *
 * 1. max throughput with wrk (25 connections, the API server's idle connections per host) on the realistic
 *    Flyte task Pod (bench/flyte-task-pod-review.json): req/s, p50, p99;
 * 2. fixed rate at half of our max rate against both (bench/fixedRate.ts, open loop): p50, p99;
 * 3. max throughput with a 1 MiB Pod;
 * then peak RSS (VmHWM) of each server and the ratios against the targets (issue 9: throughput >= 0.5 of the
 * ceiling, fixed-rate p99 <= 3x the ceiling's and < 10 ms, peak RSS <= 2x). Two more servers run in the
 * throughput rounds, to tell costs apart: the webhook with a constant Mutator (bench/constantWebhook.ts: the
 * HTTP layer alone, the same Effect program on the same @effect/platform-node server), and the platform floor
 * (bench/platformFloor.ts: the same listener and platform with a program that only parses the body and answers).
 * Each measurement runs BENCH_ROUNDS times, the servers back to back in each round, the order reversed every
 * other round (ABC CBA ...) so that a machine speeding up or slowing down favours neither. Each ratio is the
 * median of the per-round ratios (a round's servers ran within seconds of each other; this shared machine's
 * speed drifts by ±30 % over minutes), and every round is printed. CPU per request is measured as well: the
 * server process's CPU time (/proc/<pid>/stat) during its runs divided by the requests it answered.
 * The webhook runs as the image runs it: `node bin/flyte-pod-webhook.js serve` with the Dockerfile's ENV
 * (NODE_ENV, NODE_OPTIONS: V8's heap sizes), plus `--embedded` so that no cluster credentials on the machine
 * can turn on registration. The HTTP-layer server gets the same NODE_OPTIONS; the ceiling runs with Node's
 * defaults, as a bare server would.
 * Env: BENCH_SECONDS (default 5), BENCH_CONNECTIONS (25), BENCH_ROUNDS (7), BENCH_WARMUP (seconds of each
 * fixed-rate run left uncounted, 5), BENCH_NODE_OPTIONS (replaces the image's NODE_OPTIONS for the webhook
 * and the HTTP-layer server, e.g. `BENCH_NODE_OPTIONS= npm run bench` for Node's defaults).
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import {
  benchFiles,
  cpus,
  deployedEnv,
  ensureWrk,
  peakRssMiB,
  pin,
  root,
  rssMiB,
  runWrk,
  startServer,
  type Throughput
} from "./Servers.ts"

const seconds = Number(process.env["BENCH_SECONDS"] ?? 5)
const connections = Number(process.env["BENCH_CONNECTIONS"] ?? 25)
const rounds = Number(process.env["BENCH_ROUNDS"] ?? 7)
const warmup = Number(process.env["BENCH_WARMUP"] ?? 5)


type Latency = { p50: number; p99: number; errors: number }

const wrk = (url: string, bodyFile: string, duration: number, pid: number): Throughput =>
  runWrk(url, bodyFile, duration, pid, connections)

const fixedRate = (url: string, bodyFile: string, rate: number): Latency => {
  const [command, argv] = pin(1, process.execPath, [
    path.join(root, "bench/fixedRate.ts"), url, bodyFile, String(rate), String(seconds), String(connections), String(warmup)
  ])
  const run = spawnSync(command, argv, { encoding: "utf8" })
  if (run.status !== 0) throw new Error(`fixedRate failed: ${run.stderr}`)
  const r = JSON.parse(run.stdout.trim().split("\n").pop()!)
  return { p50: r.p50 as number, p99: r.p99 as number, errors: r.errors as number }
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Rounds: each target's result per round; round r ran the targets back to back. */
type Rounds<T> = Array<Array<T>>

/**
 * inRounds runs every target once per round, `rounds` times, in the given order in even rounds and reversed in
 * odd ones; results are indexed [target][round].
 */
const inRounds = <T>(targets: ReadonlyArray<() => T>): Rounds<T> => {
  const results: Rounds<T> = targets.map(() => [])
  for (let r = 0; r < rounds; r++) {
    const order = targets.map((_, i) => i)
    if (r % 2 === 1) order.reverse()
    for (const i of order) results[i]![r] = targets[i]!()
  }
  return results
}

/** medians: the median of each figure over the rounds; errors are summed. */
const medians = <T extends Record<string, number>>(rs: ReadonlyArray<T>): T => {
  const out: Record<string, number> = {}
  for (const key of Object.keys(rs[0]!)) out[key] = median(rs.map((x) => x[key]!))
  if ("errors" in rs[0]!) out["errors"] = rs.reduce((a, x) => a + x["errors"]!, 0)
  return out as T
}

/** pairedRatio: the median over rounds of a[r].key / b[r].key, and each round's ratio. */
const pairedRatio = <T extends Record<string, number>>(a: ReadonlyArray<T>, b: ReadonlyArray<T>, key: keyof T & string) => {
  const each = a.map((x, r) => x[key]! / b[r]![key]!)
  return { ratio: median(each), each }
}

const scrape = async (port: number, name: string): Promise<number> => {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text())
  return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? Number.NaN)
}

/** onePodReview: the Flyte task Pod grown to about 1 MiB with env entries (a large but valid Pod). */
const onePodReview = (small: string): string => {
  const review = JSON.parse(small)
  const container = review.request.object.spec.containers[0]
  const env = container.env ?? (container.env = [])
  for (let i = 0; JSON.stringify(review).length < 1024 * 1024; i++) {
    env.push({ name: `BENCH_PADDING_${i}`, value: "x".repeat(80) })
  }
  return JSON.stringify(review)
}

const main = async () => {
  ensureWrk()
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-bench-"))
  const { certDir, writeConfig } = benchFiles(work)
  const smallBody = path.join(root, "bench/flyte-task-pod-review.json")
  const bigBody = path.join(work, "review-1mib.json")
  fs.writeFileSync(bigBody, onePodReview(fs.readFileSync(smallBody, "utf8")))
  const ours = { port: 9643, probe: 9644 }
  const constant = { port: 9743, probe: 9744 }
  const ceilingPort = 9543
  const floorPort = 9843
  writeConfig("config.yaml", ours)
  writeConfig("constant.yaml", constant)

  console.log(`machine: ${cpus} cores (${os.cpus()[0]?.model ?? "?"}), node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`)
  const env = deployedEnv()
  console.log(`runs: ${seconds}s each, ${connections} connections, median of ${rounds} interleaved rounds; fixed rate after ${warmup}s uncounted`)
  console.log(`webhook: node bin/flyte-pod-webhook.js serve --embedded, NODE_OPTIONS=${JSON.stringify(env["NODE_OPTIONS"] ?? "")}${process.env["BENCH_NODE_OPTIONS"] === undefined ? " (the image's)" : " (BENCH_NODE_OPTIONS)"}`)
  const webhook = await startServer("webhook", ["bin/flyte-pod-webhook.js", "serve", "--embedded", "--config", path.join(work, "config.yaml")], ours.port, env)
  const ceiling = await startServer("ceiling", ["bench/ceiling.ts", String(ceilingPort), certDir], ceilingPort)
  const httpOnly = await startServer("constant", ["bench/constantWebhook.ts", path.join(work, "constant.yaml")], constant.port, env)
  const floor = await startServer("floor", ["bench/platformFloor.ts", String(floorPort), certDir], floorPort, env)
  await new Promise((r) => setTimeout(r, 2000)) // settle, then idle RSS
  const idle = { ours: rssMiB(webhook.pid!, "VmRSS"), ceiling: rssMiB(ceiling.pid!, "VmRSS") }
  const constantUrl = `https://127.0.0.1:${constant.port}/mutate`
  const ourUrl = `https://127.0.0.1:${ours.port}/mutate`
  const ceilingUrl = `https://127.0.0.1:${ceilingPort}/mutate`
  const floorUrl = `https://127.0.0.1:${floorPort}/mutate`
  try {
    // Warm up both (JIT, TLS session state), then measure.
    wrk(ourUrl, smallBody, 3, webhook.pid!)
    wrk(ceilingUrl, smallBody, 3, ceiling.pid!)
    wrk(constantUrl, smallBody, 3, httpOnly.pid!)
    wrk(floorUrl, smallBody, 3, floor.pid!)
    const [tOursR, tCeilR, tConstR, tFloorR] = inRounds<Throughput>([
      () => wrk(ourUrl, smallBody, seconds, webhook.pid!),
      () => wrk(ceilingUrl, smallBody, seconds, ceiling.pid!),
      () => wrk(constantUrl, smallBody, seconds, httpOnly.pid!),
      () => wrk(floorUrl, smallBody, seconds, floor.pid!)
    ]) as [Array<Throughput>, Array<Throughput>, Array<Throughput>, Array<Throughput>]
    const [tOurs, tCeil, tConst, tFloor] = [medians(tOursR), medians(tCeilR), medians(tConstR), medians(tFloorR)]
    const rssSmall = { ours: peakRssMiB(webhook.pid!), ceiling: peakRssMiB(ceiling.pid!) }
    const rssConst = peakRssMiB(httpOnly.pid!)
    const rate = Math.max(1, Math.round(tOurs.rps / 2))
    const [fOursR, fCeilR] = inRounds<Latency>([
      () => fixedRate(ourUrl, smallBody, rate),
      () => fixedRate(ceilingUrl, smallBody, rate)
    ]) as [Array<Latency>, Array<Latency>]
    const [fOurs, fCeil] = [medians(fOursR), medians(fCeilR)]
    const [bOursR, bCeilR] = inRounds<Throughput>([
      () => wrk(ourUrl, bigBody, seconds, webhook.pid!),
      () => wrk(ceilingUrl, bigBody, seconds, ceiling.pid!)
    ]) as [Array<Throughput>, Array<Throughput>]
    const [bOurs, bCeil] = [medians(bOursR), medians(bCeilR)]
    const throughput = pairedRatio(tOursR, tCeilR, "rps")
    const httpLayer = pairedRatio(tConstR, tCeilR, "rps")
    const platform = pairedRatio(tFloorR, tCeilR, "rps")
    const fixedP99 = pairedRatio(fOursR, fCeilR, "p99")
    const fixedP50 = pairedRatio(fOursR, fCeilR, "p50")
    const big = pairedRatio(bOursR, bCeilR, "rps")
    const peakInFlight = await scrape(ours.probe, "flyte_pod_webhook_requests_in_flight_peak")
    const rss = { ours: peakRssMiB(webhook.pid!), ceiling: peakRssMiB(ceiling.pid!) }

    const row = (label: string, o: string | number, c: string | number, ratio: string) =>
      console.log(`${label.padEnd(40)} ${String(o).padStart(12)} ${String(c).padStart(12)} ${ratio.padStart(8)}`)
    const ratio = (a: number, b: number) => (b === 0 ? "n/a" : (a / b).toFixed(2))
    console.log("")
    row("", "webhook", "ceiling", "ratio")
    row("Flyte task Pod (3.8 KB): req/s", tOurs.rps, tCeil.rps, throughput.ratio.toFixed(2))
    row("  p50 / p99 latency (ms)", `${tOurs.p50} / ${tOurs.p99}`, `${tCeil.p50} / ${tCeil.p99}`, ratio(tOurs.p99, tCeil.p99))
    row("  CPU per request, measured (us)", tOurs.cpuUs, tCeil.cpuUs, ratio(tOurs.cpuUs, tCeil.cpuUs))
    row(`fixed rate ${rate} req/s: p50 (ms)`, fOurs.p50, fCeil.p50, fixedP50.ratio.toFixed(2))
    row(`fixed rate ${rate} req/s: p99 (ms)`, fOurs.p99, fCeil.p99, fixedP99.ratio.toFixed(2))
    row("1 MiB Pod: req/s", bOurs.rps, bCeil.rps, big.ratio.toFixed(2))
    row("  p50 / p99 latency (ms)", `${bOurs.p50} / ${bOurs.p99}`, `${bCeil.p50} / ${bCeil.p99}`, ratio(bOurs.p99, bCeil.p99))
    row("idle RSS before any load (MiB)", idle.ours, idle.ceiling, ratio(idle.ours, idle.ceiling))
    row("peak RSS after small runs (MiB)", rssSmall.ours, rssSmall.ceiling, ratio(rssSmall.ours, rssSmall.ceiling))
    row("peak RSS incl. 1 MiB runs (MiB)", rss.ours, rss.ceiling, ratio(rss.ours, rss.ceiling))
    console.log("")
    console.log("HTTP layer alone (the same server with a constant Mutator instead of the engine):")
    row("  Flyte task Pod: req/s", tConst.rps, tCeil.rps, httpLayer.ratio.toFixed(2))
    row("  CPU per request, measured (us)", tConst.cpuUs, tCeil.cpuUs, ratio(tConst.cpuUs, tCeil.cpuUs))
    row("  p50 / p99 latency (ms)", `${tConst.p50} / ${tConst.p99}`, `${tCeil.p50} / ${tCeil.p99}`, ratio(tConst.p99, tCeil.p99))
    row("  peak RSS (MiB)", rssConst, rssSmall.ceiling, ratio(rssConst, rssSmall.ceiling))
    console.log("Platform floor (the same listener and platform, a program that only parses and answers):")
    row("  Flyte task Pod: req/s", tFloor.rps, tCeil.rps, platform.ratio.toFixed(2))
    row("  CPU per request, measured (us)", tFloor.cpuUs, tCeil.cpuUs, ratio(tFloor.cpuUs, tCeil.cpuUs))
    console.log(
      `CPU per request on core 0 (measured medians): ceiling ${tCeil.cpuUs} us, platform floor ${tFloor.cpuUs} us, ` +
        `HTTP layer ${tConst.cpuUs} us, webhook ${tOurs.cpuUs} us; so the platform ${tFloor.cpuUs - tCeil.cpuUs} us ` +
        `over a bare server, our HTTP layer ${tConst.cpuUs - tFloor.cpuUs} us over the platform, the engine ` +
        `${tOurs.cpuUs - tConst.cpuUs} us`
    )
    const list = (xs: ReadonlyArray<number>, digits = 2) => xs.map((x) => x.toFixed(digits)).join(" ")
    console.log("")
    console.log("per round (order reversed every other round):")
    console.log(`  req/s webhook    ${list(tOursR.map((t) => t.rps), 0)}`)
    console.log(`  req/s ceiling    ${list(tCeilR.map((t) => t.rps), 0)}`)
    console.log(`  req/s HTTP layer ${list(tConstR.map((t) => t.rps), 0)}`)
    console.log(`  req/s platform   ${list(tFloorR.map((t) => t.rps), 0)}`)
    console.log(`  throughput ratio ${list(throughput.each)} (ratio of the medians ${ratio(tOurs.rps, tCeil.rps)})`)
    console.log(`  HTTP layer ratio ${list(httpLayer.each)}`)
    console.log(`  platform ratio   ${list(platform.each)}`)
    console.log(`  fixed-rate p99 webhook ${list(fOursR.map((f) => f.p99), 1)} ms, ceiling ${list(fCeilR.map((f) => f.p99), 1)} ms`)
    console.log(`  fixed-rate p99 ratio ${list(fixedP99.each)} (ratio of the medians ${ratio(fOurs.p99, fCeil.p99)})`)
    console.log(`most requests in work at once in the webhook: ${peakInFlight} (maxInFlight 64)`)
    const errors = tOurs.errors + bOurs.errors + fOurs.errors + tCeil.errors + bCeil.errors + fCeil.errors
    row("errors (non-2xx, socket)", tOurs.errors + bOurs.errors + fOurs.errors, tCeil.errors + bCeil.errors + fCeil.errors, "")

    const checks: Array<[string, boolean]> = [
      ["throughput >= 0.5 of the ceiling (aim: 0.6 and more)", throughput.ratio >= 0.5],
      ["fixed-rate p99 <= 3x the ceiling's", fixedP99.ratio <= 3],
      ["fixed-rate p99 < 10 ms", fOurs.p99 < 10],
      ["peak RSS <= 2x the ceiling's", rss.ours <= 2 * rss.ceiling],
      ["no errors", errors === 0]
    ]
    console.log("")
    for (const [name, ok] of checks) console.log(`${ok ? "PASS" : "FAIL"}  ${name}`)
  } finally {
    webhook.kill("SIGTERM")
    ceiling.kill("SIGTERM")
    httpOnly.kill("SIGTERM")
    floor.kill("SIGTERM")
    fs.rmSync(work, { recursive: true, force: true })
  }
}

await main()
