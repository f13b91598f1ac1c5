/**
 * SecretTlsMaterial: `webhook.certSource: secret`. The serving certificate and the CA bundle come from the
 * certificate Secret read through the API instead of mounted files, and this process keeps the Secret itself
 * valid (CertService.ensureSecret: creates it if absent, renews and rotates it), so a single process with no
 * init-certs Job and no volume works and renews. Provides the same TlsMaterial the file source does, plus the
 * CaBundle for the Registrar. Other replicas' renewals are picked up at the next check. A new pair in the
 * Secret is served only if it is usable and servable now, for the names the webhook is called by and signed by
 * a CA of the Secret's `ca.crt` (TlsSource.offer); otherwise the current pair stays and the refusal counts.
 */
import { Clock, Context, Effect, Layer, Ref } from "effect"
import { WebhookConfig } from "../../WebhookConfig.ts"
import { TlsMaterial } from "../TlsMaterial.ts"
import { describePair, warnIfUnservable } from "../TlsSource.ts"
import { parseTlsPair, TlsError, type TlsPair } from "../TlsPair.ts"
import { CertService, type SecretOutcome } from "../CertService.ts"
import { CaBundle } from "./CaBundle.ts"
import type { CertMaterial } from "./CertMaterial.ts"
import { calledNames, type ServingExpectations } from "./ServingCheck.ts"

const toPair = (material: CertMaterial): Effect.Effect<TlsPair, TlsError> =>
  Effect.try({
    try: () => parseTlsPair(Buffer.from(material.tlsCrt), Buffer.from(material.tlsKey)),
    catch: (cause) => (cause instanceof TlsError ? cause : new TlsError({ reason: String(cause) }))
  })

/** layer: TlsMaterial and CaBundle from the Secret; needs CertService (and through it KubeClient). */
export const layer = Layer.effectContext(
  Effect.gen(function*() {
    const certs = yield* CertService
    const first = yield* certs.ensureSecret
    yield* Effect.logInfo(`certificate Secret ${first.action}`).pipe(
      Effect.annotateLogs({ secret: `${certs.namespace}/${certs.secretName}`, reasons: first.reasons.join("; ") })
    )
    const names = calledNames(yield* WebhookConfig, "cluster")
    const where = { secret: `${certs.namespace}/${certs.secretName}` }
    const expect = (material: CertMaterial) => (now: Date): ServingExpectations => ({ names, caBundle: material.caCrt, now })
    const initial = yield* toPair(first.material)
    yield* Effect.logInfo("serving certificate loaded from the Secret").pipe(Effect.annotateLogs({ ...where, ...describePair(initial) }))
    yield* warnIfUnservable(initial, expect(first.material)(new Date(yield* Clock.currentTimeMillis)), where)
    const source = yield* TlsMaterial.makeSource(initial)
    const bundle = yield* Ref.make(first.material.caCrt)

    const follow = (outcome: SecretOutcome) =>
      Ref.set(bundle, outcome.material.caCrt).pipe(
        Effect.andThen(source.offer(
          Effect.succeed({ cert: Buffer.from(outcome.material.tlsCrt), key: Buffer.from(outcome.material.tlsKey) }),
          expect(outcome.material),
          where
        ))
      )

    yield* Effect.forkScoped(certs.watch(follow))
    return Context.make(TlsMaterial, source.material).pipe(Context.add(CaBundle, CaBundle.fromRef(bundle)))
  })
)
