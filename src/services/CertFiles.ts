/**
 * CertFiles: the file-backed TlsMaterial. Reads `tls.crt` / `tls.key` from the cert folder once (failing fast
 * when they are unusable), then follows changes the way controller-runtime's `certwatcher` does: a watch on
 * the folder plus a poll every 10 s (a watch alone misses events on some volumes and dies when the folder is
 * replaced). Watching the folder rather than the files catches the kubelet's atomic update of a mounted
 * Secret, which swaps the `..data` symlink instead of writing the files. Identical bytes are no reload; an
 * unreadable or mismatched new pair keeps the old one and says why in a warning.
 */
import { Duration, Effect, Queue, Schedule, type Scope, SubscriptionRef } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type { TlsMaterialShape } from "./TlsMaterial.ts"
import { parseTlsPair, samePair, TlsError, type TlsPair } from "./TlsPair.ts"

export interface WatchOptions {
  /** Poll interval. Default 10 s (certwatcher's). */
  readonly pollInterval?: Duration.Input
  /** Quiet time after a folder event before reading, so both files of an update are in place. Default 100 ms. */
  readonly settle?: Duration.Input
}

const readPair = (dir: string): { readonly cert: Buffer; readonly key: Buffer } => {
  const read = (name: string) => {
    try {
      return fs.readFileSync(path.join(dir, name))
    } catch (cause) {
      throw new TlsError({ reason: `cannot read ${path.join(dir, name)}: ${(cause as Error).message}` })
    }
  }
  return { cert: read("tls.crt"), key: read("tls.key") }
}

const toTlsError = (cause: unknown): TlsError =>
  cause instanceof TlsError ? cause : new TlsError({ reason: String(cause) })

/** loadCertDir reads and checks the pair in `dir` once. */
export const loadCertDir = (dir: string): Effect.Effect<TlsPair, TlsError> =>
  Effect.try({
    try: () => {
      const { cert, key } = readPair(dir)
      return parseTlsPair(cert, key)
    },
    catch: toTlsError
  })

const describePair = (pair: TlsPair) => ({
  fingerprint: pair.fingerprint,
  notAfter: pair.notAfter.toISOString(),
  subjectAltName: pair.subjectAltName
})

/** watchCertDir loads the pair in `dir` and keeps following it for the life of the scope. */
export const watchCertDir = (
  dir: string,
  options: WatchOptions = {}
): Effect.Effect<TlsMaterialShape, TlsError, Scope.Scope> =>
  Effect.gen(function*() {
    const initial = yield* loadCertDir(dir)
    yield* Effect.logInfo("serving certificate loaded").pipe(Effect.annotateLogs({ dir, ...describePair(initial) }))
    const ref = yield* SubscriptionRef.make(initial)

    const reload = Effect.gen(function*() {
      const current = yield* SubscriptionRef.get(ref)
      const next = yield* Effect.try({
        try: () => {
          const { cert, key } = readPair(dir)
          return samePair(current, cert, key) ? undefined : parseTlsPair(cert, key)
        },
        catch: toTlsError
      })
      if (next === undefined) return
      yield* SubscriptionRef.set(ref, next)
      yield* Effect.logInfo("serving certificate reloaded").pipe(Effect.annotateLogs({ dir, ...describePair(next) }))
    }).pipe(
      Effect.catchTag("TlsError", (e) =>
        Effect.logWarning("serving certificate not reloaded; keeping the current one").pipe(
          Effect.annotateLogs({ dir, reason: e.reason })
        ))
    )

    const events = yield* Queue.sliding<void>(1)
    yield* Effect.acquireRelease(
      Effect.sync(() => startWatch(dir, () => void Queue.offerUnsafe(events, undefined))),
      (watcher) => Effect.sync(() => watcher?.close())
    )
    const settle = options.settle ?? Duration.millis(100)
    yield* Queue.take(events).pipe(
      Effect.andThen(Effect.sleep(settle)),
      Effect.andThen(Queue.clear(events)),
      Effect.andThen(reload),
      Effect.forever,
      Effect.forkScoped
    )
    yield* reload.pipe(
      Effect.repeat(Schedule.spaced(options.pollInterval ?? Duration.seconds(10))),
      Effect.delay(options.pollInterval ?? Duration.seconds(10)),
      Effect.forkScoped
    )
    return { current: SubscriptionRef.get(ref), changes: SubscriptionRef.changes(ref) }
  })

/** startWatch watches the folder; a folder that cannot be watched leaves the poll to do the work. */
const startWatch = (dir: string, onEvent: () => void): fs.FSWatcher | undefined => {
  try {
    const watcher = fs.watch(dir, { persistent: false }, onEvent)
    watcher.on("error", () => watcher.close())
    return watcher
  } catch {
    return undefined
  }
}
