/**
 * WebhookServer: the running `serve` side. Starts the probe port and the HTTPS admission listener, keeps the
 * listener's certificate in step with TlsMaterial, owns the readiness gates `listener`, `certificate` and
 * `draining`, and shuts down in order when its scope closes (SIGTERM / SIGINT through the CLI runner):
 *
 * 1. `draining` closes at once, so `/readyz` fails and endpoints drop this Pod;
 * 2. for `webhook.drainDelay` everything keeps being served (endpoint updates take a moment to propagate),
 *    but every answer carries `Connection: close`: the client closes each connection it uses, cleanly;
 * 3. the listener stops accepting and the keep-alive sockets still idle close: none has been used for the
 *    whole drain delay, so the API server is unlikely to be writing a request on one (it reuses its most
 *    recently used connection first), whereas closing sockets at the moment of SIGTERM loses the request
 *    already on its way on the busiest one (`EOF`, and the API server does not retry a POST);
 * 4. open requests finish (each is bounded by its own deadline) for up to `webhook.shutdownTimeout`, then
 *    any remaining connection is cut; the probe port closes last.
 *
 * The real Mutator answers on the spot (`reviewNow`: plain synchronous work, no fiber per request); with
 * tracing configured, or a Mutator that is only an effect (tests), the review runs as an effect on the context
 * captured when the layer was built (`Effect.runForkWith`): no per-request runtime, router or logger.
 */
import { Context, Duration, Effect, Layer, LogLevel, References, Stream } from "effect"
import { Mutator } from "../admission/Mutator.ts"
import { Readiness } from "../services/Readiness.ts"
import { TlsMaterial } from "../services/TlsMaterial.ts"
import { WebhookConfig } from "../WebhookConfig.ts"
import { AdmissionGate } from "./AdmissionGate.ts"
import {
  closeAdmission,
  closeGracefully,
  createAdmissionServer,
  type ListenError,
  listen,
  route,
  tlsOptions
} from "./AdmissionServer.ts"
import { Deadlines } from "./Deadlines.ts"
import { BodyBudget, makeMutateHandler } from "./MutateHandler.ts"
import { createProbeServer } from "./ProbeServer.ts"
import { RequestLog } from "./RequestLog.ts"
import { WebhookMetrics } from "./WebhookMetrics.ts"

export interface WebhookServerShape {
  /** Bound HTTPS port (differs from config when it was 0). */
  readonly port: number
  /** Bound probe port. */
  readonly probePort: number
  readonly metrics: WebhookMetrics
  readonly gate: AdmissionGate
  /** The requests' deadlines (tests check that none outlives its request). */
  readonly deadlines: Deadlines
}

const make = Effect.gen(function*() {
  const { webhook } = yield* WebhookConfig
  const mutator = yield* Mutator
  const tls = yield* TlsMaterial
  const readiness = yield* Readiness
  const context = yield* Effect.context<never>()
  // Without an OTLP endpoint no span is ever created on the request path, whatever the engine asks for.
  const fork = Effect.runForkWith(
    webhook.otlpEndpoint === undefined ? Context.add(context, References.TracerEnabled, false) : context
  )
  const checkReadiness = () => Effect.runSyncWith(context)(readiness.check)

  yield* readiness.set("listener", false, "HTTPS listener not started")
  yield* readiness.set("certificate", false, "no serving certificate loaded")
  yield* readiness.set("draining", true)

  const metrics = new WebhookMetrics()
  const gate = new AdmissionGate(webhook.maxInFlight, webhook.maxQueue)
  const log = new RequestLog(context, yield* LogLevel.isEnabled("Debug"))

  const pair = yield* tls.current
  let notAfter = pair.notAfter
  yield* TlsMaterial.keepCertificateGate(tls, readiness) // issue 10: gate `certificate` closed while the pair has expired
  metrics.setGauges({
    inFlight: () => gate.stats.inFlight,
    queued: () => gate.stats.queued,
    peaks: () => gate.peaks,
    certificateExpiry: () => Math.floor(notAfter.getTime() / 1000),
    certificateReloadFailures: () => Effect.runSync(tls.reloadFailures) // issue 10: ..._certificate_reload_failures_total
  })

  // Tracing code (and its OTLP modules) is loaded only when an endpoint is configured.
  const tracing = webhook.otlpEndpoint === undefined ? undefined : yield* Effect.promise(() => import("./Tracing.ts"))
  const deadlines = new Deadlines()
  const mutate = makeMutateHandler({
    review: tracing !== undefined
      ? (body, headers) => fork(tracing.inRequestSpan(mutator.review(body), headers, "/mutate"))
      : mutator.reviewNow ?? ((body) => fork(mutator.review(body))),
    gate,
    metrics,
    log,
    defaultTimeoutMs: webhook.requestTimeoutSeconds * 1000,
    buffered: new BodyBudget(webhook.maxBufferedBytes),
    onInjectionError: webhook.onInjectionError,
    deadlines
  })
  const server = createAdmissionServer(
    pair,
    route(mutate),
    (cause) => log.error("admission request path threw", { cause: String(cause) })
  )
  yield* tls.changes.pipe(
    Stream.runForEach((next) =>
      Effect.sync(() => {
        server.server.setSecureContext(tlsOptions(next))
        notAfter = next.notAfter
      })
    ),
    Effect.forkScoped
  )

  const probe = createProbeServer({ readiness: checkReadiness, metrics })
  const probePort = yield* Effect.acquireRelease(
    listen(probe, webhook.probePort, webhook.listenAddress),
    () => closeGracefully(probe, 1_000)
  )
  const port = yield* Effect.acquireRelease(
    listen(server.server, webhook.listenPort, webhook.listenAddress),
    () =>
      Effect.gen(function*() {
        yield* readiness.set("draining", false, "shutting down")
        // From now on every answer carries `Connection: close`, so the client drops each connection itself
        // once it has read an answer. Closing a keep-alive socket from our side races with a request already
        // on its way (the API server does not retry a POST that got EOF): see step 3 above.
        server.closing = true
        yield* Effect.logInfo("shutdown: not ready; still serving during the drain delay").pipe(
          Effect.annotateLogs({ drainDelaySeconds: webhook.drainDelaySeconds })
        )
        yield* Effect.sleep(Duration.seconds(webhook.drainDelaySeconds))
        const { inFlight, queued } = gate.stats
        yield* Effect.logInfo("shutdown: listener closed; finishing open requests").pipe(
          Effect.annotateLogs({ inFlight, queued })
        )
        const clean = yield* closeAdmission(server, webhook.shutdownTimeoutSeconds * 1000)
        yield* readiness.set("listener", false, "HTTPS listener closed")
        yield* (clean
          ? Effect.logInfo("shutdown: all requests answered")
          : Effect.logWarning("shutdown: timeout reached; remaining connections closed"))
      })
  )
  yield* readiness.set("listener", true)
  yield* Effect.logInfo("flyte-pod-webhook serving").pipe(
    Effect.annotateLogs({
      address: webhook.listenAddress,
      port,
      probePort,
      maxInFlight: webhook.maxInFlight,
      maxQueue: webhook.maxQueue,
      tracing: webhook.otlpEndpoint !== undefined
    })
  )
  return { port, probePort, metrics, gate, deadlines } satisfies WebhookServerShape
})

export class WebhookServer extends Context.Service<WebhookServer, WebhookServerShape>()(
  "flyte-pod-webhook/http/WebhookServer"
) {
  /** layer: both listeners, for the life of the layer; needs config, Mutator, TlsMaterial, Readiness. */
  static readonly layer: Layer.Layer<
    WebhookServer,
    ListenError,
    WebhookConfig | Mutator | TlsMaterial | Readiness
  > = Layer.effect(WebhookServer, make)
}
