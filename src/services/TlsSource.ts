/**
 * TlsSource: the state a certificate source keeps (the mounted files, or the Secret read through the API): the
 * pair in use, published to the listener through TlsMaterial, and what it did with each new pair it read.
 *
 * `offer` is the one path a new pair takes: identical bytes are no reload; otherwise the pair must be usable
 * (`parseTlsPair`) and servable now (`servingProblems`: valid now, covering the names the webhook is called
 * by, chaining to ca.crt). A pair that passes replaces the current one; a pair that fails is refused: the
 * current pair stays, the refusal is counted (`reloadFailures`, rendered as
 * `flyte_pod_webhook_certificate_reload_failures_total`) and a warning gives the reason. Every refused attempt
 * counts, so the counter keeps rising while a refused pair stays in place (the file source re-reads every
 * 10 s; alert on its rate); the warning is logged once per distinct pair and reason, not at every poll.
 */
import { Clock, Effect, Ref, SubscriptionRef } from "effect"
import * as crypto from "node:crypto"
import { type ServingExpectations, servingProblems } from "./certs/ServingCheck.ts"
import type { TlsMaterialShape } from "./TlsMaterial.ts"
import { parseTlsPair, samePair, TlsError, type TlsPair } from "./TlsPair.ts"

export interface TlsSource {
  readonly material: TlsMaterialShape
  /** publish: make `pair` (already checked) the one in use. */
  readonly publish: (pair: TlsPair) => Effect.Effect<void>
  /**
   * offer: a pair the source just read (`read` fails with TlsError when it could not be read), checked against
   * `expectations` at the time of the call; `where` annotates the logs (folder, Secret).
   */
  readonly offer: (
    read: Effect.Effect<{ readonly cert: Buffer; readonly key: Buffer }, TlsError>,
    expectations: (now: Date) => ServingExpectations,
    where: Readonly<Record<string, string>>
  ) => Effect.Effect<void>
}

/** describePair: the key-free facts about a pair that logs carry. */
export const describePair = (pair: TlsPair) => ({
  fingerprint: pair.fingerprint,
  notAfter: pair.notAfter.toISOString(),
  subjectAltName: pair.subjectAltName
})

const digest = (cert: Buffer, key: Buffer) => crypto.createHash("sha256").update(cert).update("\0").update(key).digest("hex")

const parse = (cert: Buffer, key: Buffer) =>
  Effect.try({
    try: () => parseTlsPair(cert, key),
    catch: (cause) => (cause instanceof TlsError ? cause : new TlsError({ reason: String(cause) }))
  })

/** makeTlsSource: a source serving `initial` until `offer` or `publish` replaces it. */
export const makeTlsSource = (initial: TlsPair): Effect.Effect<TlsSource> =>
  Effect.gen(function*() {
    const ref = yield* SubscriptionRef.make(initial)
    const failures = yield* Ref.make(0)
    const lastRefusal = yield* Ref.make("")
    const publish = (pair: TlsPair) => SubscriptionRef.set(ref, pair).pipe(Effect.andThen(Ref.set(lastRefusal, "")))

    /** refuse counts a refused attempt and warns, once per distinct pair (`identity`) and reason. */
    const refuse = (identity: string, reason: string, where: Readonly<Record<string, string>>) =>
      Effect.gen(function*() {
        yield* Ref.update(failures, (n) => n + 1)
        const seen = `${identity} ${reason}`
        if ((yield* Ref.getAndSet(lastRefusal, seen)) === seen) return
        yield* Effect.logWarning("serving certificate not reloaded; keeping the current one").pipe(
          Effect.annotateLogs({ ...where, reason })
        )
      })

    const offer: TlsSource["offer"] = (read, expectations, where) =>
      Effect.gen(function*() {
        const { cert, key } = yield* read
        if (samePair(yield* SubscriptionRef.get(ref), cert, key)) return yield* Ref.set(lastRefusal, "")
        const identity = digest(cert, key)
        const next = yield* parse(cert, key)
        const problems = servingProblems(next, expectations(new Date(yield* Clock.currentTimeMillis)))
        if (problems.length > 0) return yield* refuse(identity, problems.join("; "), where)
        yield* publish(next)
        yield* Effect.logInfo("serving certificate reloaded").pipe(Effect.annotateLogs({ ...where, ...describePair(next) }))
      }).pipe(
        // unreadable (a file gone mid-update) or unusable (no certificate, a key of another pair): refused too
        Effect.catchTag("TlsError", (e) => refuse("unusable", e.reason, where))
      )

    return {
      material: {
        current: SubscriptionRef.get(ref),
        changes: SubscriptionRef.changes(ref),
        reloadFailures: Ref.get(failures)
      },
      publish,
      offer
    }
  })

/**
 * warnIfUnservable: at start there is no older pair to keep, so a usable pair that cannot serve every caller
 * (expired, wrong names, another CA) is served anyway, with this warning: the webhook renews its own Secret
 * (or cert-manager does) and the next reload replaces it, which a crash loop would prevent. The `certificate`
 * readiness gate stays closed while the pair is expired (`TlsMaterial.keepCertificateGate`).
 */
export const warnIfUnservable = (pair: TlsPair, expectations: ServingExpectations, where: Readonly<Record<string, string>>) => {
  const problems = servingProblems(pair, expectations)
  return problems.length === 0
    ? Effect.void
    : Effect.logWarning("serving certificate loaded, but the API server will refuse it; serving it until a usable pair arrives").pipe(
      Effect.annotateLogs({ ...where, ...describePair(pair), reason: problems.join("; ") })
    )
}
