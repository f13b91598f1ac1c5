/**
 * TlsMaterial: the seam between where serving certificates come from and the TLS listener that uses them.
 *
 * A source (the mounted `tls.crt` / `tls.key` files, or the Kubernetes Secret read through the API) keeps the
 * current `TlsPair` and publishes every new one; the listener reads `current` at start and follows `changes`
 * to swap its secure context, so new connections get the new certificate without a restart. Sources only
 * publish pairs that passed `parseTlsPair`; anything else keeps the old pair.
 */
import { Context, Effect, Layer, Stream, SubscriptionRef } from "effect"
import { WebhookConfig } from "../WebhookConfig.ts"
import { watchCertDir } from "./CertFiles.ts"
import type { TlsError, TlsPair } from "./TlsPair.ts"

export type { TlsPair } from "./TlsPair.ts"

export interface TlsMaterialShape {
  /** The pair in use now. */
  readonly current: Effect.Effect<TlsPair>
  /** The current pair first, then each new pair as it is published. */
  readonly changes: Stream.Stream<TlsPair>
}

/** TlsSource: a TlsMaterial plus the way its owner publishes a new, already-validated pair. */
export interface TlsSource {
  readonly material: TlsMaterialShape
  readonly publish: (pair: TlsPair) => Effect.Effect<void>
}

export class TlsMaterial extends Context.Service<TlsMaterial, TlsMaterialShape>()(
  "flyte-pod-webhook/services/TlsMaterial"
) {
  /** makeSource builds a TlsMaterial around an initial pair; sources call `publish` for each new pair. */
  static readonly makeSource = (initial: TlsPair): Effect.Effect<TlsSource> =>
    Effect.map(SubscriptionRef.make(initial), (ref) => ({
      material: TlsMaterial.of({ current: SubscriptionRef.get(ref), changes: SubscriptionRef.changes(ref) }),
      publish: (pair) => SubscriptionRef.set(ref, pair)
    }))

  /** layerFiles: `tls.crt` / `tls.key` from `webhook.certDir`, hot-reloaded (see CertFiles). */
  static readonly layerFiles: Layer.Layer<TlsMaterial, TlsError, WebhookConfig> = Layer.effect(
    TlsMaterial,
    Effect.gen(function*() {
      const config = yield* WebhookConfig
      return yield* watchCertDir(config.webhook.certDir)
    })
  )

  /** layerTest: a fixed pair. */
  static readonly layerTest = (pair: TlsPair) =>
    Layer.effect(TlsMaterial, Effect.map(TlsMaterial.makeSource(pair), (source) => source.material))
}
