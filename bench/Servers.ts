/**
 * What the benchmarks share: the servers they start (pinned to core 0, with the image's environment), their
 * certificates and config files, and the readings taken from /proc. Used by bench/run.ts (`npm run bench`),
 * bench/soak.ts and bench/profile.ts.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { issueServing, makeCa } from "../src/cli/EmbeddedCerts.ts"

export const root = path.resolve(import.meta.dirname, "..")
export const cpus = os.cpus().length

/** imageEnv: the Dockerfile's `ENV KEY=value` / `ENV KEY="value"` pairs, what the container starts with. */
export const imageEnv = (): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const line of fs.readFileSync(path.join(root, "Dockerfile"), "utf8").split("\n")) {
    if (!line.startsWith("ENV ")) continue
    for (const [, key, value] of line.slice(4).matchAll(/([A-Za-z_]\w*)=("(?:[^"\\]|\\.)*"|\S*)/g)) {
      env[key!] = value!.startsWith('"') ? JSON.parse(value!) : value!
    }
  }
  return env
}
export const deployedEnv = (): Record<string, string> => {
  const env = imageEnv()
  const override = process.env["BENCH_NODE_OPTIONS"]
  if (override !== undefined) env["NODE_OPTIONS"] = override
  return env
}

export const pin = (core: number, command: string, args: ReadonlyArray<string>): [string, Array<string>] =>
  cpus >= 2 ? ["taskset", ["-c", String(core), command, ...args]] : [command, [...args]]

const waitForPort = async (port: number) => {
  for (let i = 0; i < 600; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => (socket.destroy(), resolve(true)))
      socket.on("error", () => resolve(false))
    })
    if (open) return
    await new Promise((r) => setTimeout(r, 50))
  }
  throw new Error(`nothing listening on ${port}`)
}

export const startServer = async (
  name: string,
  args: ReadonlyArray<string>,
  port: number,
  env: Record<string, string> = {}
): Promise<ChildProcess> => {
  const [command, argv] = pin(0, process.execPath, args)
  const base = { ...process.env }
  delete base["NODE_OPTIONS"] // only what `env` says: the image's for ours, Node's defaults for the ceiling
  const child = spawn(command, argv, { cwd: root, stdio: ["ignore", "ignore", "pipe"], env: { ...base, ...env } })
  let stderr = ""
  child.stderr?.on("data", (c) => (stderr = (stderr + c).slice(-4000)))
  child.on("exit", (code, signal) => {
    // The constant and floor servers have the default runner teardown (130 on a signal); the webhook must exit 0.
    if (code !== 0 && signal === null && !((name === "constant" || name === "floor") && code === 130)) {
      console.error(`${name} exited with ${code}:\n${stderr}`)
    }
  })
  await waitForPort(port)
  return child
}

/** rssMiB: VmHWM (peak resident set) or VmRSS (now) of a process, in MiB. */
export const rssMiB = (pid: number, field: "VmHWM" | "VmRSS" = "VmHWM"): number => {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8")
  const kb = Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0)
  return Math.round((kb / 1024) * 10) / 10
}
export const peakRssMiB = (pid: number) => rssMiB(pid, "VmHWM")

/** cpuMs: user + system CPU time a process has used so far (clock ticks of 10 ms). */
export const cpuMs = (pid: number): number => {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ")
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** benchFiles: a serving certificate for localhost in `<work>/certs` (and its CA, for clients), an empty Global
 * secrets folder, and a writer of webhook config files serving from them on the given ports. */
export const benchFiles = (work: string) => {
  const certDir = path.join(work, "certs")
  fs.mkdirSync(certDir, { recursive: true })
  fs.mkdirSync(path.join(work, "global-secrets"), { recursive: true })
  const ca = makeCa()
  const pair = issueServing(ca, { dns: ["localhost"], ips: ["127.0.0.1"] })
  fs.writeFileSync(path.join(certDir, "tls.crt"), pair.certPem)
  fs.writeFileSync(path.join(certDir, "tls.key"), pair.keyPem)
  fs.writeFileSync(path.join(certDir, "ca.crt"), ca.certPem)
  const writeConfig = (file: string, ports: { readonly port: number; readonly probe: number }): string => {
    const target = path.join(work, file)
    fs.writeFileSync(target, [
      "webhook:",
      `  certDir: ${certDir}`,
      "  listenAddress: 127.0.0.1",
      `  listenPort: ${ports.port}`,
      `  probePort: ${ports.probe}`,
      "  drainDelay: 0s",
      "secrets:",
      `  secrets-prefix: ${path.join(work, "global-secrets")}`,
      ""
    ].join("\n"))
    return target
  }
  return { certDir, caPem: ca.certPem, writeConfig }
}

export const ensureWrk = () => {
  if (spawnSync("wrk", ["--version"]).error === undefined) return
  console.log("wrk not found; installing it from Debian (apt-get install -y wrk)")
  const install = spawnSync("sh", ["-c", "apt-get install -y wrk || (apt-get update && apt-get install -y wrk)"], {
    stdio: "inherit"
  })
  if (install.status !== 0) throw new Error("could not install wrk; install it and rerun")
}

const toMs = (text: string): number => {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text.trim())
  if (m === null) return Number.NaN
  const n = Number(m[1])
  return m[2] === "us" ? n / 1000 : m[2] === "s" ? n * 1000 : n
}

export type Throughput = { rps: number; p50: number; p99: number; errors: number; cpuUs: number }

export const runWrk = (url: string, bodyFile: string, duration: number, pid: number, connections: number): Throughput => {
  const cpuBefore = cpuMs(pid)
  const [command, argv] = pin(1, "wrk", [
    "-t1", `-c${connections}`, `-d${duration}s`, "--timeout", "10s", "--latency", "-s", path.join(root, "bench/post.lua"), url
  ])
  const run = spawnSync(command, argv, { env: { ...process.env, BENCH_BODY: bodyFile }, encoding: "utf8" })
  if (run.status !== 0) throw new Error(`wrk failed: ${run.stderr}`)
  const out = run.stdout
  const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0)
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0)
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out)
  return {
    rps: Math.round(Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? 0)),
    p50: toMs(/^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? ""),
    p99: toMs(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? ""),
    errors: non2xx + (socketErrors === null ? 0 : socketErrors.slice(1).reduce((a, b) => a + Number(b), 0)),
    cpuUs: requests === 0 ? Number.NaN : Math.round(((cpuMs(pid) - cpuBefore) * 1000) / requests)
  }
}
