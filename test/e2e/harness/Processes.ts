/**
 * Processes: the end-to-end suite's child processes (etcd, kube-apiserver, webhook replicas, CLI runs). Each
 * runs in its own process group (`detached`), so stopping it also stops anything it started; its output goes
 * to a log file in the run's folder, whose tail is printed when a test fails. Every started process is
 * remembered until it exits, and a process-exit hook kills any still running, so an aborted run leaves no
 * process and no port behind.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"

const running = new Set<ManagedProcess>()
let exitHookInstalled = false

const killGroup = (pid: number | undefined, signal: NodeJS.Signals): void => {
  if (pid === undefined) return
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}

const installExitHook = () => {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on("exit", () => {
    for (const child of running) killGroup(child.pid, "SIGKILL")
  })
}

export interface StartOptions {
  readonly name: string
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly logFile: string
  readonly env?: Readonly<Record<string, string>>
  readonly cwd?: string
}

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** ManagedProcess: one child in its own process group, logging to a file. */
export class ManagedProcess {
  readonly name: string
  readonly logFile: string
  readonly exited: Promise<Exit>
  private readonly child: ChildProcess
  private exit: Exit | undefined

  constructor(options: StartOptions) {
    installExitHook()
    this.name = options.name
    this.logFile = options.logFile
    const log = fs.openSync(options.logFile, "a")
    this.child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env === undefined ? process.env : { ...options.env },
      detached: true,
      stdio: ["ignore", log, log]
    })
    fs.closeSync(log)
    running.add(this)
    this.exited = new Promise((resolve) => {
      this.child.once("exit", (code, signal) => {
        this.exit = { code, signal }
        running.delete(this)
        resolve(this.exit)
      })
      this.child.once("error", (error) => {
        fs.appendFileSync(options.logFile, `\n[harness] cannot start ${options.command}: ${error.message}\n`)
        this.exit = { code: 127, signal: null }
        running.delete(this)
        resolve(this.exit)
      })
    })
  }

  get pid(): number | undefined {
    return this.child.pid
  }

  /** alive: started and not exited yet. */
  get alive(): boolean {
    return this.exit === undefined
  }

  /** signal sends `signal` to the process itself (not the group): a webhook replica's SIGTERM. */
  signal(signal: NodeJS.Signals): void {
    if (this.alive && this.child.pid !== undefined) process.kill(this.child.pid, signal)
  }

  /** stop: SIGTERM to the group, then SIGKILL after `graceMs`; resolves when the process has exited. */
  async stop(graceMs = 10_000): Promise<Exit> {
    if (!this.alive) return this.exited
    killGroup(this.child.pid, "SIGTERM")
    const timer = setTimeout(() => killGroup(this.child.pid, "SIGKILL"), graceMs)
    const exit = await this.exited
    clearTimeout(timer)
    killGroup(this.child.pid, "SIGKILL") // anything the process left in its group
    return exit
  }

  /** log: the output so far. */
  log(): string {
    try {
      return fs.readFileSync(this.logFile, "utf8")
    } catch {
      return ""
    }
  }
}

/** stopAll stops every process still running (teardown's safety net). */
export const stopAll = async (): Promise<void> => {
  await Promise.all([...running].map((child) => child.stop(5_000)))
}

/** tail: the last `lines` lines of a file, or a note that it is missing. */
export const tail = (file: string, lines = 40): string => {
  let text: string
  try {
    text = fs.readFileSync(file, "utf8")
  } catch {
    return `(no ${file})`
  }
  return text.split("\n").slice(-lines - 1).join("\n")
}
