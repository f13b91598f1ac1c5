/**
 * AdmissionSlots: bounded concurrency for the work of the admission path, on Effect's Semaphore. At most
 * `maxInFlight` reviews are in work and at most `maxQueue` wait for a slot (first come, first served); past
 * that a review is refused at once (`AtCapacity`, answered 429 + Retry-After), so the caller (the API server,
 * which sets no rate limit of its own) gets a fast answer instead of an unbounded queue.
 *
 * A request takes a slot only once its body is in (src/http/RequestBody.ts): a slow upload holds bytes of the
 * body budget, never a slot, so 64 slow clients cannot starve the reviews that are ready. Every way out of
 * `withSlot` (answer, deadline, client gone, defect) gives the slot or the queue place back: the counters are
 * updated in finalizers, not on the happy path.
 */
import { Data, Effect, Semaphore } from "effect"

/** AtCapacity: every slot is taken and the queue is full. */
export class AtCapacity extends Data.TaggedError("AtCapacity")<{
  readonly inFlight: number
  readonly queued: number
}> {}

export interface SlotStats {
  readonly inFlight: number
  readonly queued: number
}

export interface AdmissionSlots {
  /** withSlot runs `work` holding a slot, waiting in the queue first when all are taken. */
  readonly withSlot: <A, E, R>(work: Effect.Effect<A, E, R>) => Effect.Effect<A, E | AtCapacity, R>
  /** Requests in work and waiting now. */
  readonly stats: () => SlotStats
  /** The most requests seen in work and waiting at once since start (sizing maxInFlight / maxQueue). */
  readonly peaks: () => SlotStats
}

/** makeAdmissionSlots builds the slots for `maxInFlight` reviews in work and `maxQueue` waiting. */
export const makeAdmissionSlots = (maxInFlight: number, maxQueue: number): AdmissionSlots => {
  const semaphore = Semaphore.makeUnsafe(maxInFlight)
  let inFlight = 0
  let queued = 0
  let peakInFlight = 0
  let peakQueued = 0

  // Counting is plain code run as the work starts and on its exit (onExitPrimitive with no finalizer Effect):
  // Effect.sync steps around every review cost ~1 µs each in the server (docs/serve.md, "Where the time goes").
  const leave = (): undefined => {
    inFlight--
    return undefined
  }
  const counted = <A, E, R>(work: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.suspend(() => {
      if (++inFlight > peakInFlight) peakInFlight = inFlight
      return Effect.onExitPrimitive(work, leave)
    })

  const withSlot = <A, E, R>(work: Effect.Effect<A, E, R>): Effect.Effect<A, E | AtCapacity, R> =>
    Effect.suspend((): Effect.Effect<A, E | AtCapacity, R> => {
      const held = counted(work)
      if (inFlight < maxInFlight) return Semaphore.withPermit(semaphore, held)
      if (queued >= maxQueue) return Effect.fail(new AtCapacity({ inFlight, queued }))
      if (++queued > peakQueued) peakQueued = queued
      let waiting = true
      const dequeue = Effect.sync(() => {
        if (waiting) {
          waiting = false
          queued--
        }
      })
      // The permit's own release runs when `work` ends in any way; `dequeue` also runs when we are interrupted
      // (deadline, client gone) while still waiting for the permit.
      return Semaphore.withPermit(semaphore, Effect.andThen(dequeue, held)).pipe(Effect.ensuring(dequeue))
    })

  return {
    withSlot,
    stats: () => ({ inFlight, queued }),
    peaks: () => ({ inFlight: peakInFlight, queued: peakQueued })
  }
}
