/**
 * RequestBody: read one request body that Node's HTTP parser has framed (Content-Length or chunked), as an
 * Effect, holding its bytes in the request's BodyHold (src/http/BodyBudget.ts).
 *
 * Two refusals, each answered to a client that can still read it:
 * - BodyTooLarge: past MAX_BODY_BYTES (7 MiB). The rest of the body is read and dropped, up to DRAIN_BYTES in all,
 *   before the 413 is sent: a client that writes its whole body before reading (Python's http.client, the Go
 *   client without Expect) then reads the answer instead of a reset. Node itself drains a body its handler did
 *   not read; @effect/platform-node closes the connection instead once more than 256 KiB are left, so a large
 *   refused body must be drained here. Past DRAIN_BYTES the connection is closed (`Connection: close`).
 * - BudgetExceeded: the shared budget is full; answered at once (429), the connection closed.
 * A client that goes away mid-body ends the read with BodyAborted (the fiber is interrupted anyway).
 */
import { Data, Effect } from "effect"
import type * as http from "node:http"
import type { BodyHold } from "./BodyBudget.ts"
import { MAX_BODY_BYTES } from "./Limits.ts"

/** Bytes of a too-large body read and dropped before the 413, so that the client can read it. */
export const DRAIN_BYTES = 16 * 1024 * 1024

export class BodyTooLarge extends Data.TaggedError("BodyTooLarge")<{
  /** Whether the whole body was read (the connection can stay open), or reading stopped at DRAIN_BYTES. */
  readonly drained: boolean
}> {}
export class BudgetExceeded extends Data.TaggedError("BudgetExceeded")<{ readonly held: number }> {}
export class BodyAborted extends Data.TaggedError("BodyAborted")<{ readonly reason: string }> {}

export type BodyError = BodyTooLarge | BudgetExceeded | BodyAborted

/** readBody collects the body of `source` within MAX_BODY_BYTES and the budget. */
export const readBody = (source: http.IncomingMessage, hold: BodyHold): Effect.Effect<Buffer, BodyError> =>
  Effect.callback<Buffer, BodyError>((resume) => {
    if (source.readableEnded || source.destroyed) {
      return resume(Effect.fail(new BodyAborted({ reason: "the request body was already consumed or aborted" })))
    }
    const chunks: Array<Buffer> = []
    let size = 0
    let drained = 0
    let tooLarge = false
    const done = (effect: Effect.Effect<Buffer, BodyError>) => {
      stop()
      resume(effect)
    }
    const onData = (chunk: Buffer) => {
      if (tooLarge) {
        drained += chunk.length
        if (drained > DRAIN_BYTES) done(Effect.fail(new BodyTooLarge({ drained: false })))
        return
      }
      if (size + chunk.length > MAX_BODY_BYTES) {
        tooLarge = true
        drained = size + chunk.length
        chunks.length = 0 // the bytes stay held until the answer; what was read is no longer needed
        return
      }
      if (!hold.take(chunk.length)) return done(Effect.fail(new BudgetExceeded({ held: size })))
      size += chunk.length
      chunks.push(chunk)
    }
    const onEnd = () =>
      done(
        tooLarge
          ? Effect.fail(new BodyTooLarge({ drained: true }))
          : Effect.succeed(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size))
      )
    // 'close' also follows a complete body; only a body that did not complete is an abort.
    const onClose = () => {
      if (!source.complete) done(Effect.fail(new BodyAborted({ reason: "the client closed the connection mid-body" })))
    }
    const onError = (error: Error) => done(Effect.fail(new BodyAborted({ reason: error.message })))
    const stop = () => {
      source.off("data", onData)
      source.off("end", onEnd)
      source.off("close", onClose)
      source.off("error", onError)
    }
    source.on("data", onData)
    source.on("end", onEnd)
    source.on("close", onClose)
    source.on("error", onError)
    return Effect.sync(stop)
  })
