/**
 * WebhookServer: the running `serve` side. Starts the probe port and the HTTPS admission listener
 * (AdmissionListener.ts, node:https) with the admission program (AdmissionApp.ts) served on it by
 * @effect/platform-node, keeps the listener's certificate in step with TlsMaterial, owns the readiness gates
 * `listener`, `certificate` and `draining`, and shuts down in order when its scope closes (SIGTERM / SIGINT
 * through the CLI runner):
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
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Context, Data, Duration, Effect, Layer, LogLevel, Option, References, Schedule, Stream } from "effect"
import { HttpMiddleware, type HttpServerRequest } from "effect/http"
import type * as https from "node:https"
import type * as net from "node:net"
import type * as tls from "node:tls"
import { Mutator } from "../admission/Mutator.ts"
import { type ClientCaError, ClientCaFile } from "../services/ClientCaFile.ts"
import { Readiness } from "../services/Readiness.ts"
import { TlsMaterial } from "../services/TlsMaterial.ts"
import type { TlsPair } from "../services/TlsPair.ts"
import { WebhookConfig } from "../WebhookConfig.ts"
import { makeAdmissionApp } from "./AdmissionApp.ts"
import { createAdmissionListener, Limits } from "./AdmissionListener.ts"
import { type AdmissionSlots, makeAdmissionSlots } from "./AdmissionSlots.ts"
import { type BodyBudget, makeBodyBudget } from "./BodyBudget.ts"
import { closeGracefully, createProbeServer, listen } from "./ProbeServer.ts"
import { RequestLog } from "./RequestLog.ts"
import { clientNameProblem, secureContextOptions, tlsPolicy } from "./TlsPolicy.ts"
import { WebhookMetrics } from "./WebhookMetrics.ts"

/** ListenError: a listener could not bind (port in use, address not available). */
export class ListenError extends Data.TaggedError("ListenError")<{ readonly address: string; readonly reason: string }> {}

export interface WebhookServerShape {
  /** Bound HTTPS port (differs from config when it was 0). */
  readonly port: number
  /** Bound probe port. */
  readonly probePort: number
  readonly metrics: WebhookMetrics
  readonly slots: AdmissionSlots
  readonly budget: BodyBudget
  /** Admission requests received and not yet answered (reading, waiting or in work). */
  readonly open: () => number
}

const make = Effect.gen(function*() {
  const { webhook } = yield* WebhookConfig
  const mutator = yield* Mutator
  const tls = yield* TlsMaterial
  const readiness = yield* Readiness

  yield* readiness.set("listener", false, "HTTPS listener not started")
  yield* readiness.set("certificate", false, "no serving certificate loaded")
  yield* readiness.set("draining", true)

  const metrics = new WebhookMetrics()
  const slots = makeAdmissionSlots(webhook.maxInFlight, webhook.maxQueue)
  const budget = makeBodyBudget(webhook.maxBufferedBytes)
  let closing = false
  // Admission requests from their body's first byte to their answer (AdmissionApp.ts); the shutdown waits for them.
  const inWork = { count: 0 }

  let pair: TlsPair = yield* tls.current
  // The `certificate` gate is closed while the pair being served has expired (issue 10), checked on every new
  // pair and periodically (TlsMaterial.keepCertificateGate).
  yield* TlsMaterial.keepCertificateGate(tls, readiness)
  metrics.setGauges({
    inFlight: () => slots.stats().inFlight,
    queued: () => slots.stats().queued,
    peaks: slots.peaks,
    bodyBytesHeld: budget.held,
    certificateExpiry: () => Math.floor(pair.notAfter.getTime() / 1000),
    certificateReloadFailures: () => Effect.runSync(tls.reloadFailures)
  })

  // webhook.clientNames: each TLS connection's verified client certificate is checked once, when it is made; a
  // request on a connection whose certificate is not allowed is refused (403) before its body is read.
  const refusedClients = new WeakMap<object, string>()
  const app = makeAdmissionApp({
    refusedClient: webhook.clientNames.length === 0 ? undefined : (socket) => refusedClients.get(socket),
    mutator,
    slots,
    budget,
    metrics,
    log: new RequestLog(yield* LogLevel.isEnabled("Debug")),
    defaultTimeoutMs: webhook.requestTimeoutSeconds * 1000,
    onInjectionError: webhook.onInjectionError,
    closing: () => closing,
    inWork
  })

  // TLS: the config's policy, and the client CA when client certificates are required (issue 10). A new serving
  // pair or a new client CA bundle swaps the secure context for new connections.
  const clientCa = yield* ClientCaFile
  let policy = tlsPolicy(webhook, Option.getOrUndefined(yield* clientCa.current)?.pem)
  const server: https.Server = createAdmissionListener(
    secureContextOptions(pair, policy),
    webhook.maxConnections,
    yield* Limits
  )
  yield* tls.changes.pipe(
    Stream.runForEach((next) =>
      Effect.sync(() => {
        server.setSecureContext(secureContextOptions(next, policy))
        pair = next
      })
    ),
    Effect.forkScoped
  )
  if (webhook.clientNames.length > 0) {
    server.on("secureConnection", (socket: tls.TLSSocket) => {
      const problem = clientNameProblem(socket.getPeerCertificate(), webhook.clientNames)
      if (problem !== undefined) refusedClients.set(socket, problem)
    })
  }
  yield* clientCa.changes.pipe(
    Stream.runForEach((next) =>
      Effect.sync(() => {
        policy = tlsPolicy(webhook, next.pem)
        server.setSecureContext(secureContextOptions(pair, policy))
      })
    ),
    Effect.forkScoped
  )

  const probe = createProbeServer({ readiness: () => Effect.runSync(readiness.check), metrics })
  const probePort = yield* Effect.acquireRelease(
    listen(probe, webhook.probePort, webhook.listenAddress),
    () => closeGracefully(probe, 1_000)
  ).pipe(Effect.mapError((e) => new ListenError(e)))

  const address = `${webhook.listenAddress}:${webhook.listenPort}`
  const httpServer = yield* NodeHttpServer.make(() => server, {
    port: webhook.listenPort,
    host: webhook.listenAddress,
    // Our own finalizer below has already drained and closed by the time the platform's runs.
    gracefulShutdownTimeout: Duration.seconds(webhook.shutdownTimeoutSeconds)
  }).pipe(Effect.mapError((e) => new ListenError({ address, reason: describe(e.cause) })))
  // Without an OTLP endpoint no span is ever created on the request path (and the platform skips its tracer);
  // with one, the platform's server span continues the API server's `traceparent`, named `POST /mutate`.
  // (Both are read from the context `serve` runs in, which every request's fiber inherits.)
  yield* httpServer.serve(app).pipe(
    webhook.otlpEndpoint === undefined
      ? Effect.provideService(References.TracerEnabled, false)
      : Effect.provideService(HttpMiddleware.SpanNameGenerator, spanName)
  )
  const port = (server.address() as net.AddressInfo).port

  // Runs before the platform's own finalizers (finalizers run last-added first): see steps 1-4 above.
  yield* Effect.addFinalizer(() =>
    Effect.gen(function*() {
      yield* readiness.set("draining", false, "shutting down")
      closing = true
      yield* Effect.logInfo("shutdown: not ready; still serving during the drain delay").pipe(
        Effect.annotateLogs({ drainDelaySeconds: webhook.drainDelaySeconds })
      )
      yield* Effect.sleep(Duration.seconds(webhook.drainDelaySeconds))
      yield* Effect.logInfo("shutdown: listener closed; finishing open requests").pipe(Effect.annotateLogs({ open: inWork.count }))
      server.close()
      server.closeIdleConnections()
      const finished = yield* Effect.sync(() => inWork.count === 0).pipe(
        Effect.repeat({ schedule: Schedule.spaced(Duration.millis(50)), until: (done) => done }),
        Effect.timeoutOption(Duration.seconds(webhook.shutdownTimeoutSeconds))
      )
      server.closeAllConnections()
      yield* readiness.set("listener", false, "HTTPS listener closed")
      yield* (finished._tag === "Some"
        ? Effect.logInfo("shutdown: all requests answered")
        : Effect.logWarning("shutdown: timeout reached; remaining connections closed").pipe(Effect.annotateLogs({ open: inWork.count })))
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
  return { port, probePort, metrics, slots, budget, open: () => inWork.count } satisfies WebhookServerShape
})

/** spanName: `<method> <path>` without the query (the API server's `?timeout=` differs per call). */
const spanName = (request: HttpServerRequest.HttpServerRequest): string => {
  const q = request.url.indexOf("?")
  return `${request.method} ${(q < 0 ? request.url : request.url.slice(0, q)).slice(0, 100)}`
}

const describe = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

export class WebhookServer extends Context.Service<WebhookServer, WebhookServerShape>()(
  "flyte-pod-webhook/http/WebhookServer"
) {
  /** layer: both listeners, for the life of the layer; needs config, Mutator, TlsMaterial, Readiness. */
  static readonly layer: Layer.Layer<
    WebhookServer,
    ListenError | ClientCaError,
    WebhookConfig | Mutator | TlsMaterial | Readiness
  > = Layer.effect(WebhookServer, make).pipe(Layer.provide(ClientCaFile.layer))
}
