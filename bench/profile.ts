/**
 * `node bench/profile.ts [webhook|ceiling|constant|floor] [seconds]`: where one server's CPU goes per request, under
 * the load `npm run bench` puts on it (wrk, 25 connections, the Flyte task Pod, server pinned to core 0, wrk to
 * core 1). The server runs with `--perf-basic-prof`; after a 3 s warm-up, `perf record -e task-clock -g`
 * samples it (all its threads) for `seconds` (default 10) while wrk runs; then bench/perfSplit.ts charges each
 * sample to its innermost JavaScript frame and prints the split in µs per request (the server's CPU over the
 * run divided by the requests answered). Run it for the webhook and for the ceiling back to back to compare
 * (docs/serve.md, "Where the time goes"). Needs `perf` (Debian: linux-perf) and a kernel that lets this user
 * profile its own processes (`kernel.perf_event_paranoid` <= 2).
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { print, split } from "./perfSplit.ts"
import { benchFiles, deployedEnv, ensureWrk, pin, root, runWrk, startServer } from "./Servers.ts"

const [which = "webhook", secondsText = "10"] = process.argv.slice(2)
const seconds = Number(secondsText)
if (!["webhook", "ceiling", "constant", "floor"].includes(which) || !(seconds > 0)) {
  console.error("usage: node bench/profile.ts [webhook|ceiling|constant|floor] [seconds]")
  process.exit(2)
}
if (spawnSync("perf", ["--version"]).error !== undefined) {
  console.error("perf not found: install it (Debian: apt-get install -y linux-perf) and rerun")
  process.exit(2)
}
ensureWrk()

const work = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-profile-"))
const { certDir, writeConfig } = benchFiles(work)
const port = 9843
const config = writeConfig("config.yaml", { port, probe: port + 1 })
const args: Record<string, ReadonlyArray<string>> = {
  webhook: ["bin/flyte-pod-webhook.js", "serve", "--embedded", "--config", config],
  constant: ["bench/constantWebhook.ts", config],
  ceiling: ["bench/ceiling.ts", String(port), certDir],
  floor: ["bench/platformFloor.ts", String(port), certDir]
}
// The webhook and the HTTP-layer server run with the image's environment, the ceiling with Node's defaults.
const server = await startServer(which, ["--perf-basic-prof", ...args[which]!], port, which === "ceiling" ? {} : deployedEnv())
const url = `https://127.0.0.1:${port}/mutate`
const body = path.join(root, "bench/flyte-task-pod-review.json")
const data = path.join(work, "perf.data")
try {
  runWrk(url, body, 3, server.pid!, 25)
  const perf = spawn("perf", ["record", "-e", "task-clock", "-F", "2000", "-g", "-p", String(server.pid), "-o", data, "--", "sleep", String(seconds)], {
    stdio: ["ignore", "ignore", "inherit"]
  })
  const run = runWrk(url, body, seconds, server.pid!, 25)
  await new Promise((resolve) => perf.on("exit", resolve))
  console.log(`${which}: ${run.rps} req/s under the profiler, p50 ${run.p50} ms, p99 ${run.p99} ms, errors ${run.errors}`)
  const [command, argv] = pin(1, "perf", ["script", "-i", data])
  const script = spawnSync(command, argv, { encoding: "utf8", maxBuffer: 1 << 30 })
  if (script.status !== 0) throw new Error(`perf script failed: ${script.stderr}`)
  print(split(script.stdout, root), run.cpuUs)
} finally {
  server.kill(which === "ceiling" ? "SIGTERM" : "SIGINT")
  fs.rmSync(work, { recursive: true, force: true })
}
