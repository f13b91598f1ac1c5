/**
 * SecretTlsMaterial: `webhook.certSource: secret`. The serving certificate and the CA bundle come from the
 * certificate Secret read through the API instead of mounted files, and this process keeps the Secret itself
 * valid (CertService.ensureSecret: creates it if absent, renews and rotates it), so a single process with no
 * init-certs Job and no volume works and renews. Provides the same TlsMaterial the file source does, plus the
 * CaBundle for the Registrar. Other replicas' renewals are picked up at the next check.
 */
import { Context, Effect, Layer, Ref } from "effect"
import { TlsMaterial } from "../TlsMaterial.ts"
import { parseTlsPair, samePair, TlsError, type TlsPair } from "../TlsPair.ts"
import { CertService, type SecretOutcome } from "../CertService.ts"
import { CaBundle } from "./CaBundle.ts"
import type { CertMaterial } from "./CertMaterial.ts"

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
    const source = yield* TlsMaterial.makeSource(yield* toPair(first.material))
    const bundle = yield* Ref.make(first.material.caCrt)

    const follow = (outcome: SecretOutcome) =>
      Effect.gen(function*() {
        yield* Ref.set(bundle, outcome.material.caCrt)
        const current = yield* source.material.current
        const cert = Buffer.from(outcome.material.tlsCrt)
        const key = Buffer.from(outcome.material.tlsKey)
        if (samePair(current, cert, key)) return
        const next = yield* toPair(outcome.material)
        yield* source.publish(next)
        yield* Effect.logInfo("serving certificate reloaded from the Secret").pipe(
          Effect.annotateLogs({ fingerprint: next.fingerprint, notAfter: next.notAfter.toISOString() })
        )
      }).pipe(
        Effect.catchTag("TlsError", (e) =>
          Effect.logWarning("serving certificate in the Secret not usable; keeping the current one").pipe(
            Effect.annotateLogs({ reason: e.reason })
          ))
      )

    yield* Effect.forkScoped(certs.watch(follow))
    return Context.make(TlsMaterial, source.material).pipe(Context.add(CaBundle, CaBundle.fromRef(bundle)))
  })
)
