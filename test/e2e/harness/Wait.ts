/**
 * Wait: polling with a deadline, and free loopback ports. Every wait in the suite names what it waits for, so a
 * timeout says which step hung instead of "hook timed out".
 */
import * as net from "node:net"
import { setTimeout as sleep } from "node:timers/promises"

export { sleep }

/**
 * until polls `check` every `intervalMs` until it returns a value other than undefined, or throws after
 * `timeoutMs` with `what` and the last error. `abort` (e.g. "the process exited") stops waiting at once.
 */
export const until = async <A>(
  what: string,
  check: () => Promise<A | undefined> | A | undefined,
  options: { readonly timeoutMs: number; readonly intervalMs?: number; readonly abort?: () => string | undefined }
): Promise<A> => {
  const deadline = Date.now() + options.timeoutMs
  let last = ""
  while (true) {
    const reason = options.abort?.()
    if (reason !== undefined) throw new Error(`${what}: ${reason}`)
    try {
      const value = await check()
      if (value !== undefined) return value
    } catch (error) {
      last = error instanceof Error ? error.message : String(error)
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}${last === "" ? "" : ` (last error: ${last})`}`)
    }
    await sleep(options.intervalMs ?? 200)
  }
}

/** freePort: a loopback port nothing listens on right now (the kernel's pick; a clash later is retried). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))))
    })
  })
