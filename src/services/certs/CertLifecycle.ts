/**
 * CertLifecycle: how `serve` wires certificates and registration, in two pieces.
 *
 * 1. `sourcesLayer(settings)`: TlsMaterial + CaBundle + CertService for `webhook.certSource`:
 *    - `files` (default): serving pair and bundle from the mounted Secret in `webhook.certDir`;
 *    - `secret`: both read from the Secret through the API by this process, which also creates and renews it.
 *    Needs KubeClient and WebhookConfig.
 * 2. `background`: run once the TLS listener accepts. The Registrar (registration + readiness gate
 *    `registration`) and, in `files` mode, the rotation loop that renews the Secret through the API (the kubelet
 *    then updates the mounted files and the listener reloads them); in `secret` mode the source already runs
 *    that loop. Never fails and never returns: fork it in the serve scope.
 */
import { Effect, Layer } from "effect"
import { WebhookConfig, type WebhookConfigShape } from "../../WebhookConfig.ts"
import { CertService } from "../CertService.ts"
import { Registrar } from "../Registrar.ts"
import { TlsMaterial } from "../TlsMaterial.ts"
import { CaBundle } from "./CaBundle.ts"
import * as SecretTlsMaterial from "./SecretTlsMaterial.ts"

/** sourcesLayer: TlsMaterial, CaBundle and CertService for the configured certSource. */
export const sourcesLayer = (settings: WebhookConfigShape) =>
  settings.webhook.certSource === "secret"
    ? SecretTlsMaterial.layer.pipe(Layer.provideMerge(CertService.layer))
    : Layer.mergeAll(TlsMaterial.layerFiles, CaBundle.layerFiles, CertService.layer)

/** background: Registrar.run, plus the Secret rotation loop in files mode. */
export const background: Effect.Effect<never, never, Registrar | CertService | WebhookConfig> = Effect.gen(function*() {
  const { webhook } = yield* WebhookConfig
  const registrar = yield* Registrar
  const certs = yield* CertService
  const rotation = webhook.certSource === "files" ? [certs.watch(() => Effect.void)] : []
  return yield* Effect.all([registrar.run, ...rotation], { concurrency: "unbounded" }).pipe(Effect.andThen(Effect.never))
})
