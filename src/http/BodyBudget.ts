/**
 * BodyBudget: request body bytes held at once across all requests, against `webhook.maxBufferedBytes`. Node
 * bounds one body's size (src/http/RequestBody.ts refuses past 7 MiB), but not how many arrive at once: without
 * a shared bound, slow or huge uploads from anything that reaches the port could exhaust the heap.
 *
 * A request holds its bytes from the first chunk until its answer is ready (the parsed review lives that long),
 * in a `BodyHold` opened and released around the request's work (`holding`: acquire, use, and an `ensuring`
 * release), so every ending (an answer, the deadline, a refusal mid-body, the client going away, a defect)
 * gives its bytes back.
 */
import { Effect } from "effect"

/** BodyHold: one request's share of the budget. */
export interface BodyHold {
  /** take reserves `bytes` more for this request, or says no (nothing reserved) when that would pass the limit. */
  readonly take: (bytes: number) => boolean
}

export interface BodyBudget {
  readonly limit: number
  /** Bytes held now by all requests. */
  readonly held: () => number
  /** holding runs `use` with a share of its own, given back however `use` ends. */
  readonly holding: <A, E, R>(use: (hold: BodyHold) => Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** makeBodyBudget builds the shared budget of `limit` bytes. */
export const makeBodyBudget = (limit: number): BodyBudget => {
  let held = 0
  const open = (): BodyHold & { readonly release: () => void } => {
    let mine = 0
    return {
      take: (bytes) => {
        if (held + bytes > limit) return false
        held += bytes
        mine += bytes
        return true
      },
      release: () => {
        held -= mine
        mine = 0
      }
    }
  }
  return {
    limit,
    held: () => held,
    holding: (use) =>
      Effect.suspend(() => {
        const hold = open()
        return Effect.ensuring(use(hold), Effect.sync(hold.release))
      })
  }
}
