/**
 * support: the real CLI (bin/flyte-pod-webhook.js) in a child process on this Node (24, the one running vitest),
 * with an environment that holds no Global secret and no Kubernetes credentials of the machine running the tests
 * (HOME is an empty folder, KUBECONFIG unset), unless a test sets them.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

export const repo = path.resolve(import.meta.dirname, "../..")
export const bin = path.join(repo, "bin/flyte-pod-webhook.js")

const emptyHome = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-cli-home-"))
process.on("exit", () => fs.rmSync(emptyHome, { recursive: true, force: true }))

/** baseEnv: this process's env without Global secrets or Kubernetes credentials. */
export const baseEnv: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries({ ...process.env, HOME: emptyHome })
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .filter(([k]) => !k.startsWith("FLYTE_SECRET_") && k !== "KUBECONFIG")
)

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  /** Standard input: text written at once, or a writer for slow input; closed afterwards. */
  readonly input?: string | Uint8Array | ((stdin: ChildProcessWithoutNullStreams["stdin"]) => Promise<void>)
  readonly env?: Readonly<Record<string, string>>
  readonly cwd?: string
  readonly timeoutMs?: number
}

/** runCli: run `flyte-pod-webhook <args>` and resolve with its exit code and output. */
export const runCli = (args: ReadonlyArray<string>, options: RunOptions = {}): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd ?? repo,
      env: { ...baseEnv, ...options.env },
      timeout: options.timeoutMs ?? 60_000
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.stdin.on("error", () => {}) // the command may stop reading (input too large) before we stop writing
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
    const input = options.input ?? ""
    if (typeof input === "function") input(child.stdin).then(() => child.stdin.end(), reject)
    else child.stdin.end(input)
  })

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
