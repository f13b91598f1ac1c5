/**
 * TlsMaterial: the seam between where serving certificates come from and the TLS listener that uses them.
 *
 * A source (the mounted `tls.crt` / `tls.key` files, or the Kubernetes Secret read through the API) keeps the
 * current `TlsPair` and publishes every new one; the listener reads `current` at start and follows `changes`
 * to swap its secure context, so new connections get the new certificate without a restart. Sources publish
 * only pairs that are usable and servable now (TlsSource.offer: valid now, covering the names the webhook is
 * called by, chaining to ca.crt); anything else keeps the old pair and counts in `reloadFailures`.
 *
 * It also owns what the served certificate says about readiness: `keepCertificateGate` closes the readiness
 * gate `certificate` while the pair in use has expired (the API server refuses every call then).
 */
import { Clock, Context, Effect, Layer, type Scope, Stream } from "effect"
import { WebhookConfig } from "../WebhookConfig.ts"
import { watchCertDir } from "./CertFiles.ts"
import { type CallerMode, calledNames } from "./certs/ServingCheck.ts"
import type { ReadinessShape } from "./Readiness.ts"
import { makeTlsSource, type TlsSource } from "./TlsSource.ts"
import type { TlsError, TlsPair } from "./TlsPair.ts"

export type { TlsPair } from "./TlsPair.ts"
export type { TlsSource } from "./TlsSource.ts"

export interface TlsMaterialShape {
  /** The pair in use now. */
  readonly current: Effect.Effect<TlsPair>
  /** The current pair first, then each new pair as it is published. */
  readonly changes: Stream.Stream<TlsPair>
  /** New pairs refused since start (the current pair was kept): `..._certificate_reload_failures_total`. */
  readonly reloadFailures: Effect.Effect<number>
}

/** CertificateGate: the readiness gate of the served certificate. */
export const CertificateGate = "certificate"

/** How often `keepCertificateGate` re-checks the pair in use for expiry (besides on every new pair). */
const GateCheckInterval = "10 seconds"

export class TlsMaterial extends Context.Service<TlsMaterial, TlsMaterialShape>()(
  "flyte-pod-webhook/services/TlsMaterial"
) {
  /** makeSource builds a TlsMaterial around an initial pair; sources call `offer` (or `publish`) for new pairs. */
  static readonly makeSource = (initial: TlsPair): Effect.Effect<TlsSource> => makeTlsSource(initial)

  /**
   * layerFilesFor: `tls.crt` / `tls.key` from `webhook.certDir`, hot-reloaded (see CertFiles), each new pair
   * checked against the names callers use in `mode` (ServingCheck.calledNames) and the folder's `ca.crt`.
   */
  static readonly layerFilesFor = (mode: CallerMode): Layer.Layer<TlsMaterial, TlsError, WebhookConfig> =>
    Layer.effect(
      TlsMaterial,
      Effect.gen(function*() {
        const config = yield* WebhookConfig
        return yield* watchCertDir(config.webhook.certDir, { names: calledNames(config, mode) })
      })
    )

  /** layerFiles: the files for a webhook reached through its registration (cluster or standalone). */
  static readonly layerFiles = TlsMaterial.layerFilesFor("cluster")

  /** layerEmbedded: the files of `serve --embedded` (localhost and 127.0.0.1). */
  static readonly layerEmbedded = TlsMaterial.layerFilesFor("embedded")

  /** layerTest: a fixed pair. */
  static readonly layerTest = (pair: TlsPair) =>
    Layer.effect(TlsMaterial, Effect.map(TlsMaterial.makeSource(pair), (source) => source.material))

  /**
   * keepCertificateGate: opens the readiness gate `certificate` now if the pair in use has not expired, then
   * keeps it in step (closed once that pair expires, open again when a valid one replaces it), checking on
   * every new pair and every 10 s, for the life of the scope.
   */
  static readonly keepCertificateGate = (
    tls: TlsMaterialShape,
    readiness: ReadinessShape
  ): Effect.Effect<void, never, Scope.Scope> => {
    const check = Effect.gen(function*() {
      const pair = yield* tls.current
      const expired = pair.notAfter.getTime() <= (yield* Clock.currentTimeMillis)
      yield* readiness.set(
        CertificateGate,
        !expired,
        expired ? `serving certificate ${pair.fingerprint} expired at ${pair.notAfter.toISOString()}` : ""
      )
    })
    return check.pipe(
      Effect.andThen(
        Stream.merge(Stream.drop(tls.changes, 1), Stream.tick(GateCheckInterval)).pipe(
          Stream.runForEach(() => check),
          Effect.forkScoped
        )
      ),
      Effect.asVoid
    )
  }
}
