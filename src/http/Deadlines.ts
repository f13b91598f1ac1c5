/**
 * Deadlines: the request deadlines of one listener, checked by one interval timer instead of a Node timer per
 * request. A request adds its entry when its work starts and removes it when it ends; every `everyMs` the
 * entries past their time are fired (and removed). The timer runs only while some entry is waiting.
 *
 * Why not `setTimeout` per request: creating and clearing a Node timer costs ~2 µs of the ~100 µs a review costs
 * in the server (bench/profile.ts: setTimeout, unenroll, the timer list), on every request, for a deadline that
 * almost never fires. Here a request costs a Set insertion and deletion. The price is precision: a deadline
 * fires up to `everyMs` late, well inside the 0.5 s the deadline keeps before the API server's own timeout
 * (Limits.ts).
 */

/** Entry: one request's deadline; `fire` is called once, at most `everyMs` after `at`, unless removed before. */
export interface DeadlineEntry {
  readonly at: number
  readonly fire: () => void
}

export interface Deadlines {
  /** add registers `fire` to run once `performance.now()` passes `at`; returns the entry to remove. */
  readonly add: (at: number, fire: () => void) => DeadlineEntry
  /** remove forgets the entry (its request ended); nothing happens if it already fired. */
  readonly remove: (entry: DeadlineEntry) => void
  /** How many entries wait (for tests and the shutdown). */
  readonly size: () => number
}

/** Default check interval: a deadline fires at most this late. */
export const DEADLINE_CHECK_MS = 25

export const makeDeadlines = (everyMs: number = DEADLINE_CHECK_MS): Deadlines => {
  const waiting = new Set<DeadlineEntry>()
  let timer: ReturnType<typeof setInterval> | undefined
  const check = () => {
    const now = performance.now()
    for (const entry of waiting) {
      if (entry.at <= now) {
        waiting.delete(entry)
        entry.fire()
      }
    }
    if (waiting.size === 0 && timer !== undefined) {
      clearInterval(timer)
      timer = undefined
    }
  }
  return {
    add: (at, fire) => {
      const entry: DeadlineEntry = { at, fire }
      waiting.add(entry)
      // Unreferenced: a deadline alone does not keep the process up (the listener does while it serves).
      if (timer === undefined) timer = setInterval(check, everyMs).unref()
      return entry
    },
    remove: (entry) => {
      waiting.delete(entry)
    },
    size: () => waiting.size
  }
}
