/**
 * CertFiles: the file-backed TlsMaterial. Reads `tls.crt` / `tls.key` from the cert folder once (failing fast
 * when they are unusable), then follows the folder (FolderWatch.ts: a watch plus a poll every 10 s, as
 * controller-runtime's `certwatcher` does). Identical bytes are no reload; a new
 * pair that is unreadable, mismatched, not valid now, not for the names the webhook is called by, or not
 * signed by a CA in the folder's `ca.crt` (when it has one) keeps the old one, is counted and says why in a
 * warning (TlsSource.offer).
 */
import { Clock, type Duration, Effect, type Scope } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import type { ServingExpectations } from "./certs/ServingCheck.ts"
import { followFolder } from "./FolderWatch.ts"
import type { TlsMaterialShape } from "./TlsMaterial.ts"
import { describePair, makeTlsSource, warnIfUnservable } from "./TlsSource.ts"
import { parseTlsPair, TlsError, type TlsPair } from "./TlsPair.ts"

export interface WatchOptions {
  /** Poll interval. Default 10 s (certwatcher's). */
  readonly pollInterval?: Duration.Input
  /** Quiet time after a folder event before reading, so both files of an update are in place. Default 100 ms. */
  readonly settle?: Duration.Input
  /** Names a new pair must cover (ServingCheck.calledNames). Default: none checked. */
  readonly names?: ReadonlyArray<string>
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

/** readCaBundle: the folder's `ca.crt`, or "" when it has none (then no chain is checked). */
const readCaBundle = (dir: string): string => {
  try {
    return fs.readFileSync(path.join(dir, "ca.crt"), "utf8")
  } catch {
    return ""
  }
}

/** watchCertDir loads the pair in `dir` and keeps following it for the life of the scope. */
export const watchCertDir = (
  dir: string,
  options: WatchOptions = {}
): Effect.Effect<TlsMaterialShape, TlsError, Scope.Scope> =>
  Effect.gen(function*() {
    const initial = yield* loadCertDir(dir)
    const expectations = (now: Date): ServingExpectations => ({ names: options.names ?? [], caBundle: readCaBundle(dir), now })
    yield* Effect.logInfo("serving certificate loaded").pipe(Effect.annotateLogs({ dir, ...describePair(initial) }))
    yield* warnIfUnservable(initial, expectations(new Date(yield* Clock.currentTimeMillis)), { dir })
    const source = yield* makeTlsSource(initial)
    const reload = source.offer(Effect.try({ try: () => readPair(dir), catch: toTlsError }), expectations, { dir })

    yield* followFolder(dir, reload, options)
    return source.material
  })
