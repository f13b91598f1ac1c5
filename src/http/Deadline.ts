/**
 * Deadline: run an Effect until a deadline, then interrupt it and answer with a fallback instead.
 *
 * This is `Effect.timeoutOrElse` with one fiber instead of three: `timeoutOrElse` races the work against
 * `Effect.sleep` (two forked fibers and a Node timer per call), which measured 6-13 µs per request against
 * 1-4 µs here (`node bench/effectCosts.ts`); the webhook's whole budget
 * per request is about 100 µs. The work runs in one child fiber; a Node timer interrupts it at the deadline and
 * the caller resumes with the fallback at once, while the interrupted work runs its finalizers (so the body's
 * bytes and the slot are given back whichever way it ends).
 */
import { Effect, type Exit } from "effect"

/** withDeadline runs `self`, or after `ms` interrupts it and succeeds with `orElse()`. */
export const withDeadline = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  ms: number,
  orElse: () => A
): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.forkChild(self, { startImmediately: true }), (work) =>
    Effect.callback<A, E>((resume) => {
      const done = work.pollUnsafe()
      if (done !== undefined) return resume(done)
      let settled = false
      const timer = setTimeout(() => {
        settled = true
        work.interruptUnsafe()
        resume(Effect.sync(orElse))
      }, ms)
      work.addObserver((exit: Exit.Exit<A, E>) => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resume(exit)
      })
      // We were interrupted (the client went away): stop the work too.
      return Effect.sync(() => {
        clearTimeout(timer)
        work.interruptUnsafe()
      })
    }))
