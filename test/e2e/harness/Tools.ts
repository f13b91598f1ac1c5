/**
 * Tools: running the command-line programs the suite drives, each to completion with a deadline: kubectl and
 * helm from the e2e binary cache, deploy/render.sh, and the webhook's own CLI (`node bin/flyte-pod-webhook.js`
 * on this Node 24, exactly as the container runs it).
 */
import { execFile } from "node:child_process"
import * as path from "node:path"

export const RepoRoot = path.resolve(import.meta.dirname, "../../..")
export const CliEntry = path.join(RepoRoot, "bin", "flyte-pod-webhook.js")

export interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export interface RunOptions {
  readonly env?: Readonly<Record<string, string>>
  readonly input?: string
  readonly timeoutMs?: number
  readonly cwd?: string
}

/** run: a program to completion; never rejects on a non-zero exit (the caller asserts on `code`). */
export const run = (command: string, args: ReadonlyArray<string>, options: RunOptions = {}): Promise<Ran> =>
  new Promise((resolve) => {
    const child = execFile(
      command,
      [...args],
      {
        cwd: options.cwd ?? RepoRoot,
        env: options.env === undefined ? process.env : { ...options.env },
        timeout: options.timeoutMs ?? 60_000,
        killSignal: "SIGKILL",
        maxBuffer: 64 * 1024 * 1024
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1
        const killed = error !== null && error.killed ? `\n[harness] killed after ${options.timeoutMs ?? 60_000} ms` : ""
        resolve({ code, stdout: String(stdout), stderr: String(stderr) + killed })
      }
    )
    if (options.input !== undefined) child.stdin?.end(options.input)
  })

/** describeRun: a failed run, for assertion messages. */
export const describeRun = (what: string, ran: Ran): string =>
  `${what} exited ${ran.code}\n--- stdout\n${ran.stdout.slice(-4000)}\n--- stderr\n${ran.stderr.slice(-4000)}`

/** must: run, and throw with the output when it fails. */
export const must = async (command: string, args: ReadonlyArray<string>, options: RunOptions = {}): Promise<Ran> => {
  const ran = await run(command, args, options)
  if (ran.code !== 0) throw new Error(describeRun(`${path.basename(command)} ${args.join(" ")}`, ran))
  return ran
}

/** kubectl with a kubeconfig. */
export const kubectl = (binDir: string, kubeconfig: string, args: ReadonlyArray<string>, options: RunOptions = {}) =>
  run(path.join(binDir, "kubectl"), ["--kubeconfig", kubeconfig, ...args], options)

/** cli: the webhook's CLI (`flyte-pod-webhook <args>`) with exactly the given environment (plus PATH/HOME). */
export const cli = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>>, options: Omit<RunOptions, "env"> = {}) =>
  run(process.execPath, [CliEntry, ...args], { ...options, env: baseEnv(env) })

/** baseEnv: a minimal environment for the webhook's processes (no KUBECONFIG or POD_* leaking in from ours). */
export const baseEnv = (env: Readonly<Record<string, string>>): Record<string, string> => ({
  PATH: process.env["PATH"] ?? "/usr/bin:/bin",
  HOME: process.env["HOME"] ?? "/tmp",
  ...env
})
