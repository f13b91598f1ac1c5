/**
 * `serve`: run the webhook: the HTTPS admission listener and the probe port (src/http/WebhookServer), the
 * Mutator, the serving certificate from `webhook.certDir` (hot-reloaded), JSON-lines logs at
 * `webhook.logLevel`, and OTLP tracing when `webhook.otlpEndpoint` is set.
 *
 * `serve --embedded` (what `npm start` runs) needs no cluster: it reads deploy/examples/embedded-config.yaml
 * unless `--config` is given, creates a throwaway CA and a serving certificate for localhost in the config's
 * certDir (a git-ignored folder) and prints a `curl` that returns a patch.
 *
 * SIGTERM / SIGINT interrupt the command (NodeRuntime.runMain); WebhookServer's finalizer drains and closes.
 * A shutdown that got that far exits 0 (`serveTeardown`), not runMain's 130 for an interrupted program.
 */
import { Cause, Console, Effect, Exit, Layer, Logger, type LogLevel, Option, References, Runtime } from "effect"
import { Command, Flag } from "effect/cli"
import * as path from "node:path"
import { Mutator } from "../admission/Mutator.ts"
import { WebhookServer } from "../http/WebhookServer.ts"
import { KubeClient } from "../kube/KubeClient.ts"
import { background, sourcesLayer } from "../services/certs/CertLifecycle.ts"
import { Readiness } from "../services/Readiness.ts"
import { Registrar } from "../services/Registrar.ts"
import { TlsMaterial } from "../services/TlsMaterial.ts"
import { WebhookConfig, type WebhookConfigShape, type LogLevel as ConfigLogLevel } from "../WebhookConfig.ts"
import { exitWith } from "./CliExit.ts"
import { ensureEmbeddedCerts } from "./EmbeddedCerts.ts"
import { configFlag } from "./Flags.ts"

/** The embedded default's config file, relative to the repository root (where `npm start` runs). */
export const EMBEDDED_CONFIG = "deploy/examples/embedded-config.yaml"
const EXAMPLE_REVIEW = "deploy/examples/flyte-task-pod-review.json"

const embeddedFlag = Flag.Boolean("embedded").pipe(
  Flag.withDescription(
    `no cluster: use ${EMBEDDED_CONFIG} (unless --config), make a throwaway CA and localhost certificate, print a curl`
  ),
  Flag.withDefault(false)
)

const effectLevel = (level: ConfigLogLevel): LogLevel.LogLevel => (level === "Warning" ? "Warn" : level)

/** loggingLayer: JSON lines on stdout at the configured level. */
export const loggingLayer = (level: ConfigLogLevel) =>
  Layer.mergeAll(
    Logger.layer([Logger.consoleJson]),
    Layer.succeed(References.MinimumLogLevel, effectLevel(level))
  )

/** tracing: the OTLP tracer when `webhook.otlpEndpoint` is set; its modules load only then. */
const tracing = (endpoint: string | undefined) =>
  endpoint === undefined
    ? Layer.empty
    : Layer.unwrap(Effect.promise(() => import("../http/Tracing.ts")).pipe(Effect.map((t) => t.tracingLayer(endpoint))))

/** serverLayer: the listener alone, certificates from `webhook.certDir` (standalone: no Kubernetes API). */
export const serverLayer = (settings: WebhookConfigShape) =>
  WebhookServer.layer.pipe(
    Layer.provide([Mutator.layer, TlsMaterial.layerFiles, Readiness.layer, tracing(settings.webhook.otlpEndpoint)]),
    Layer.provide(Layer.succeed(WebhookConfig, settings))
  )

/**
 * clusterLayer: the listener plus what needs the API server: certificates per `webhook.certSource` (renewed
 * through the Secret), the Registrar, and the shared readiness gates. `background` starts after listening.
 */
export const clusterLayer = (settings: WebhookConfigShape) => {
  const config = Layer.succeed(WebhookConfig, settings)
  const shared = Layer.mergeAll(Readiness.layer, KubeClient.layer).pipe(Layer.provideMerge(config))
  const sources = sourcesLayer(settings).pipe(Layer.provideMerge(shared))
  const registrar = Registrar.layer.pipe(Layer.provideMerge(sources))
  return WebhookServer.layer.pipe(
    Layer.provideMerge(registrar),
    Layer.provide([Mutator.layer, tracing(settings.webhook.otlpEndpoint)]),
    Layer.provide(config)
  )
}

let shutdownCompleted = false

/** serveTeardown: exit 0 after a signal-driven shutdown that completed; otherwise runMain's defaults. */
export const serveTeardown: Runtime.Teardown = (exit, onExit) =>
  shutdownCompleted && Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)
    ? onExit(0)
    : Runtime.defaultTeardown(exit, onExit)

const describe = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e ? String((e as { message: unknown }).message) : String(e)

const curlHint = (caFile: string, port: number) =>
  [
    "",
    "flyte-pod-webhook is serving (embedded). Try:",
    "",
    `  curl --cacert ${caFile} -H 'Content-Type: application/json' --data @${EXAMPLE_REVIEW} \\`,
    `    https://127.0.0.1:${port}/mutate`,
    "",
    "The answer's response.patch is base64 JSONPatch; to read it append:",
    `  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.stringify(JSON.parse(Buffer.from(JSON.parse(s).response.patch,"base64")),null,2)))'`,
    ""
  ].join("\n")

export const serve = Command.make("serve", { config: configFlag, embedded: embeddedFlag }, ({ config, embedded }) =>
  Effect.gen(function*() {
    const file = Option.getOrUndefined(config) ?? (embedded ? EMBEDDED_CONFIG : undefined)
    const settings = yield* WebhookConfig.load(file).pipe(
      Effect.catchTag("ConfigError", (e) => exitWith(2, `config: ${e.message}`))
    )
    let caFile: string | undefined
    if (embedded) {
      const certs = yield* ensureEmbeddedCerts(settings.webhook.certDir).pipe(
        Effect.catchTag("EmbeddedCertError", (e) => exitWith(2, e.reason))
      )
      caFile = path.relative(process.cwd(), certs.caFile) || certs.caFile
    }
    const standalone = embedded || (yield* KubeClient.available) === false
    if (standalone && !embedded) {
      yield* Effect.logWarning(
        "no Kubernetes credentials (KUBECONFIG, ~/.kube/config or a service account): serving certificates from " +
          "webhook.certDir without registration or certificate renewal"
      ).pipe(Effect.provide(loggingLayer(settings.webhook.logLevel)))
    }
    const listening = Effect.gen(function*() {
      const server = yield* WebhookServer
      if (caFile !== undefined) yield* Console.error(curlHint(caFile, server.port))
    })
    yield* (standalone
      ? listening.pipe(Effect.andThen(Effect.never), Effect.provide(serverLayer(settings)))
      : listening.pipe(
        Effect.andThen(background), // only once the TLS listener accepts (WebhookServer is built)
        Effect.provide(clusterLayer(settings))
      )).pipe(
      Effect.onInterrupt(() => Effect.sync(() => void (shutdownCompleted = true))),
      Effect.catchTags({
        ListenError: (e) => exitWith(1, `cannot listen on ${e.address}: ${e.reason}`),
        TlsError: (e) => exitWith(1, `serving certificate in ${settings.webhook.certDir}: ${e.reason}`),
        ConfigError: (e) => exitWith(2, `config: ${e.message}`),
        KubeConfigError: (e) => exitWith(2, e.message)
      }),
      Effect.catch((e) => exitWith(1, `cannot start: ${describe(e)}`)),
      Effect.provide(loggingLayer(settings.webhook.logLevel))
    )
  })).pipe(Command.withDescription("Serve the admission webhook over HTTPS, with probes and metrics on a plain-HTTP port"))
