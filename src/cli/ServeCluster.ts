/**
 * ServeCluster: what `serve` adds when Kubernetes credentials exist: certificates per `webhook.certSource`
 * (renewed through the Secret), the Registrar and the shared readiness gates. src/cli/Serve.ts imports this
 * module only then, because it loads @kubernetes/client-node (about 30 MiB of a process's RSS), which a
 * standalone or embedded server never uses.
 */
import { Layer } from "effect"
import { Mutator } from "../admission/Mutator.ts"
import { WebhookServer } from "../http/WebhookServer.ts"
import { KubeClient } from "../kube/KubeClient.ts"
import { background, sourcesLayer } from "../services/certs/CertLifecycle.ts"
import { Readiness } from "../services/Readiness.ts"
import { Registrar } from "../services/Registrar.ts"
import { WebhookConfig, type WebhookConfigShape } from "../WebhookConfig.ts"

export { background }

/** credentialsAvailable: whether client-node finds Kubernetes credentials (serve runs standalone without). */
export const credentialsAvailable = KubeClient.available

/**
 * clusterLayer: the listener plus what needs the API server: certificates per `webhook.certSource` (renewed
 * through the Secret), the Registrar, and the shared readiness gates. `background` starts after listening.
 * `tracing` is Serve.ts's tracer layer (empty without `webhook.otlpEndpoint`).
 */
export const clusterLayer = <E>(settings: WebhookConfigShape, tracing: Layer.Layer<never, E>) => {
  const config = Layer.succeed(WebhookConfig, settings)
  const shared = Layer.mergeAll(Readiness.layer, KubeClient.layer).pipe(Layer.provideMerge(config))
  const sources = sourcesLayer(settings).pipe(Layer.provideMerge(shared))
  const registrar = Registrar.layer.pipe(Layer.provideMerge(sources))
  return WebhookServer.layer.pipe(
    Layer.provideMerge(registrar),
    Layer.provide([Mutator.layer, tracing]),
    Layer.provide(config)
  )
}
