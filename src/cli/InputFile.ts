/**
 * InputFile: the bytes of `mutate`'s input, a file or standard input (`-`), read as a stream: a slow pipe
 * (`kubectl get pod -o yaml | ... mutate -`) or a terminal delivers its input over time, and reading whatever
 * is already there (readFileSync on fd 0) fails with EAGAIN or reads nothing. Reading stops, and the input is
 * refused, past MAX_INPUT_BYTES.
 */
import { Data, Effect } from "effect"
import * as fs from "node:fs"
import type { Readable } from "node:stream"

/**
 * The most `mutate` reads: the API server refuses request bodies over 3 MiB and etcd stores objects of at most
 * 1.5 MiB, so no real Pod or AdmissionReview comes near it; a bigger input is a wrong file.
 */
export const MAX_INPUT_BYTES = 8 * 1024 * 1024

/** InputError: the input cannot be read; `reason` reads after "input <name>". */
export class InputError extends Data.TaggedError("InputError")<{ readonly reason: string }> {}

/** inputName: how messages name the input. */
export const inputName = (file: string): string => (file === "-" ? "<stdin>" : file)

const collect = (stream: Readable, maxBytes: number, onDone: () => void) =>
  Effect.callback<Uint8Array, InputError>((resume) => {
    const chunks: Array<Buffer> = []
    let size = 0
    let done = false
    const finish = (result: Effect.Effect<Uint8Array, InputError>) => {
      if (done) return
      done = true
      stream.off("data", onData).off("end", onEnd).off("error", onError)
      onDone()
      resume(result)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > maxBytes) {
        finish(Effect.fail(new InputError({ reason: `is larger than ${maxBytes / (1024 * 1024)} MiB; mutate reads at most that (a Pod the API server stores is at most 1.5 MiB)` })))
      } else {
        chunks.push(chunk)
      }
    }
    const onEnd = () => finish(Effect.succeed(Buffer.concat(chunks)))
    const onError = (cause: Error) => finish(Effect.fail(new InputError({ reason: `cannot be read: ${cause.message}` })))
    stream.on("data", onData).once("end", onEnd).once("error", onError)
    return Effect.sync(() => finish(Effect.fail(new InputError({ reason: "reading was interrupted" }))))
  })

/** readInput: all of the input's bytes, or InputError (unreadable, or over `maxBytes`). */
export const readInput = (file: string, maxBytes: number = MAX_INPUT_BYTES): Effect.Effect<Uint8Array, InputError> => {
  if (file !== "-") {
    return Effect.suspend(() => {
      const stream = fs.createReadStream(file)
      return collect(stream, maxBytes, () => stream.destroy())
    })
  }
  return Effect.suspend(() => {
    const stdin = process.stdin
    const hint = stdin.isTTY === true
      ? Effect.sync(() => process.stderr.write("mutate: reading a Pod or AdmissionReview from the terminal; end it with Ctrl-D\n"))
      : Effect.void
    // Once read (or refused), stdin must not keep the process alive.
    return hint.pipe(Effect.andThen(collect(stdin, maxBytes, () => {
      stdin.pause()
      stdin.destroy()
    })))
  })
}
