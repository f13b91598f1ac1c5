/**
 * BodyBudget: request body bytes held at once across all requests, against `webhook.maxBufferedBytes`. Node
 * bounds one body's size (src/http/RequestBody.ts refuses past 7 MiB), but not how many arrive at once: without
 * a shared bound, slow or huge uploads from anything that reaches the port could exhaust the heap.
 *
 * A request holds its bytes from the first chunk until its answer is ready (the parsed review lives that long),
 * in a `BodyHold` opened for the request and released in the finalizer of its work (src/http/AdmissionApp.ts:
 * one `ensuring` for the hold and the deadline's timer), so every ending (an answer, the deadline, a refusal
 * mid-body, the client going away, a defect) gives its bytes back.
 */
/** BodyHold: one request's share of the budget. */
export interface BodyHold {
  /** take reserves `bytes` more for this request, or says no (nothing reserved) when that would pass the limit. */
  readonly take: (bytes: number) => boolean
}

/** OpenHold: a share as its owner sees it: `release` gives back all it holds (again: nothing more). */
export interface OpenHold extends BodyHold {
  readonly release: () => void
}

export interface BodyBudget {
  readonly limit: number
  /** Bytes held now by all requests. */
  readonly held: () => number
  /** open starts a share; its owner must release it however the request ends. */
  readonly open: () => OpenHold
}

/** makeBodyBudget builds the shared budget of `limit` bytes. */
export const makeBodyBudget = (limit: number): BodyBudget => {
  let held = 0
  const open = (): OpenHold => {
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
    open
  }
}
