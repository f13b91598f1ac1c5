/**
 * FolderWatch: follow a mounted folder the way controller-runtime's `certwatcher` does: `fs.watch` on the folder
 * (which sees the kubelet's atomic `..data` symlink swap of a mounted Secret or ConfigMap) plus a poll (a watch
 * alone misses events on some volumes and dies when the folder is replaced). Each folder event waits a short
 * quiet time so that every file of an update is in place, then runs `reload`; the poll runs it too. Used for the
 * serving certificate (CertFiles.ts) and the client CA bundle (ClientCaFile.ts).
 */
import { Duration, Effect, Queue, Schedule, type Scope } from "effect"
import * as fs from "node:fs"

export interface FollowOptions {
  /** Poll interval. Default 10 s (certwatcher's). */
  readonly pollInterval?: Duration.Input
  /** Quiet time after a folder event before reading. Default 100 ms. */
  readonly settle?: Duration.Input
}

/** followFolder runs `reload` after changes in `dir` and on every poll, for the life of the scope. */
export const followFolder = <E, R>(
  dir: string,
  reload: Effect.Effect<void, E, R>,
  options: FollowOptions = {}
): Effect.Effect<void, never, Scope.Scope | R> =>
  Effect.gen(function*() {
    const events = yield* Queue.sliding<void>(1)
    yield* Effect.acquireRelease(
      Effect.sync(() => startWatch(dir, () => void Queue.offerUnsafe(events, undefined))),
      (watcher) => Effect.sync(() => watcher?.close())
    )
    const safely = Effect.ignore(reload)
    yield* Queue.take(events).pipe(
      Effect.andThen(Effect.sleep(options.settle ?? Duration.millis(100))),
      Effect.andThen(Queue.clear(events)),
      Effect.andThen(safely),
      Effect.forever,
      Effect.forkScoped
    )
    const poll = options.pollInterval ?? Duration.seconds(10)
    yield* safely.pipe(Effect.repeat(Schedule.spaced(poll)), Effect.delay(poll), Effect.forkScoped)
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
