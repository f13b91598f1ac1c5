/**
 * `serve`: run the webhook: the HTTPS admission listener and the probe port (src/http/WebhookServer), the
 * Mutator, the serving certificate from `webhook.certDir` (hot-reloaded), JSON-lines logs at
 * `webhook.logLevel`, and OTLP tracing when `webhook.otlpEndpoint` is set.
 *
 * `serve --embedded` (what `npm start` runs) needs no cluster: it reads deploy/examples/embedded-config.yaml
 * unless `--config` is given, creates a throwaway CA and a serving certificate for localhost in the config's
 * certDir (a git-ignored folder) and prints a `curl` that returns a patch. The embedded config's relative
 * paths are the package's (Package.ts), so it works from any folder.
 *
 * With Kubernetes credentials (and not `--embedded`) the cluster wiring in ServeCluster.ts is imported and
 * added: registration and certificate renewal. Without them that module, and @kubernetes/client-node with it,
 * is never loaded.
 *
 * SIGTERM / SIGINT interrupt the command (NodeRuntime.runMain); WebhookServer's finalizer drains and closes.
 * A shutdown that got that far exits 0 (ServeTeardown.ts), not runMain's 130 for an interrupted program.
 */
import { Console, Effect, Layer, Logger, type LogLevel, Option, References } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { Mutator } from "../admission/Mutator.ts"
import { WebhookServer } from "../http/WebhookServer.ts"
import { Readiness } from "../services/Readiness.ts"
import { TlsMaterial } from "../services/TlsMaterial.ts"
import { WebhookConfig, type WebhookConfigShape, type LogLevel as ConfigLogLevel } from "../WebhookConfig.ts"
import { CliExit, configMessage, exitWith } from "./CliExit.ts"
import { ensureEmbeddedCerts } from "./EmbeddedCerts.ts"
import { EMBEDDED_CONFIG, type ServeInput } from "./Flags.ts"
import { forDisplay, fromPackage } from "./Package.ts"
import { markShutdownCompleted } from "./ServeTeardown.ts"

export { EMBEDDED_CONFIG }
const EXAMPLE_REVIEW = "deploy/examples/flyte-task-pod-review.json"

/** inPackage: the embedded config's relative folders, taken from the package rather than the working folder. */
const inPackage = (settings: WebhookConfigShape): WebhookConfigShape => ({
  ...settings,
  webhook: { ...settings.webhook, certDir: fromPackage(settings.webhook.certDir) },
  secrets: { ...settings.secrets, secretsPrefix: fromPackage(settings.secrets.secretsPrefix) }
})

/**
 * noCertificate: what to run when certDir holds no serving certificate (one message, with the three ways out);
 * for files that exist but cannot be used, TlsMaterial's reason.
 */
const certificateProblem = (certDir: string, reason: string): string => {
  const missing = ["tls.crt", "tls.key"].filter((name) => !fs.existsSync(path.join(certDir, name)))
  if (missing.length === 0) return `serve: the serving certificate in ${certDir} cannot be used: ${reason}`
  return `serve: no serving certificate: ${missing.join(" and ")} not found in ${certDir} (webhook.certDir). ` +
    "Run `flyte-pod-webhook serve --embedded` to try it locally with a throwaway certificate, " +
    "`flyte-pod-webhook init-certs` with webhook.localCert: true to create one, " +
    "or point webhook.certDir at the folder where the certificate Secret is mounted."
}

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

/**
 * serverLayer: the listener alone, certificates from `webhook.certDir` (standalone: no Kubernetes API). New
 * pairs must cover the names callers use: localhost and 127.0.0.1 when embedded, else the registration's.
 */
export const serverLayer = (settings: WebhookConfigShape, embedded = false) =>
  WebhookServer.layer.pipe(
    Layer.provide([
      Mutator.layer,
      embedded ? TlsMaterial.layerEmbedded : TlsMaterial.layerFiles,
      Readiness.layer,
      tracing(settings.webhook.otlpEndpoint)
    ]),
    Layer.provide(Layer.succeed(WebhookConfig, settings))
  )

/**
 * mayHaveCredentials: false when @kubernetes/client-node's `KubeConfig.loadFromDefault` can only fall back to
 * its placeholder http://localhost:8080 (which KubeClient.available reports as no credentials): no
 * `KUBECONFIG`, no `$HOME/.kube/config`, no service account token, not Windows (client-node 2.0.1,
 * dist/config.js). Checked first so that a standalone server never loads the client library; when it is
 * true, KubeClient.available gives the answer.
 */
const mayHaveCredentials = (): boolean => {
  const exists = (file: string) => {
    try {
      fs.accessSync(file)
      return true
    } catch {
      return false
    }
  }
  const kubeconfig = process.env["KUBECONFIG"]
  const home = process.env["HOME"]
  return (kubeconfig !== undefined && kubeconfig.length > 0) || process.platform === "win32" ||
    (home !== undefined && home.length > 0 && exists(path.join(home, ".kube", "config"))) ||
    exists("/var/run/secrets/kubernetes.io/serviceaccount/token")
}

/** cluster: the cluster wiring (ServeCluster.ts), imported only when credentials exist; undefined otherwise. */
const cluster = Effect.gen(function*() {
  if (!mayHaveCredentials()) return undefined
  const wiring = yield* Effect.promise(() => import("./ServeCluster.ts"))
  return (yield* wiring.credentialsAvailable) ? wiring : undefined
})

const describe = (e: unknown): string =>
  typeof e === "object" && e !== null && "message" in e ? String((e as { message: unknown }).message) : String(e)

const curlHint = (caFile: string, port: number) =>
  [
    "",
    "flyte-pod-webhook is serving (embedded). Try:",
    "",
    `  curl --cacert ${caFile} -H 'Content-Type: application/json' --data @${forDisplay(fromPackage(EXAMPLE_REVIEW))} \\`,
    `    https://127.0.0.1:${port}/mutate`,
    "",
    "The answer's response.patch is base64 JSONPatch; to read it append:",
    `  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.stringify(JSON.parse(Buffer.from(JSON.parse(s).response.patch,"base64")),null,2)))'`,
    ""
  ].join("\n")

/** serve: the handler of `flyte-pod-webhook serve` (flags in Flags.ts, listed in src/Cli.ts). */
export const serve = ({ config, embedded }: ServeInput) =>
  Effect.gen(function*() {
    const embeddedDefault = embedded && Option.isNone(config)
    const file = Option.getOrUndefined(config) ?? (embedded ? fromPackage(EMBEDDED_CONFIG) : undefined)
    const loaded = yield* WebhookConfig.load(file).pipe(
      Effect.catchTag("ConfigError", (e) => exitWith(2, configMessage(e)))
    )
    const settings = embeddedDefault ? inPackage(loaded) : loaded
    let caFile: string | undefined
    if (embedded) {
      const certs = yield* ensureEmbeddedCerts(settings.webhook.certDir).pipe(
        Effect.catchTag("EmbeddedCertError", (e) => exitWith(2, e.reason))
      )
      caFile = forDisplay(certs.caFile)
    }
    const wiring = embedded ? undefined : yield* cluster
    if (wiring === undefined && !embedded) {
      yield* Effect.logWarning(
        "no Kubernetes credentials (KUBECONFIG, ~/.kube/config or a service account): serving certificates from " +
          "webhook.certDir without registration or certificate renewal"
      ).pipe(Effect.provide(loggingLayer(settings.webhook.logLevel)))
    }
    const listening = Effect.gen(function*() {
      const server = yield* WebhookServer
      if (caFile !== undefined) yield* Console.error(curlHint(caFile, server.port))
    })
    yield* (wiring === undefined
      ? listening.pipe(Effect.andThen(Effect.never), Effect.provide(serverLayer(settings, embedded)))
      : listening.pipe(
        Effect.andThen(wiring.background), // only once the TLS listener accepts (WebhookServer is built)
        Effect.provide(wiring.clusterLayer(settings, tracing(settings.webhook.otlpEndpoint)))
      )).pipe(
      Effect.onInterrupt(() => Effect.sync(markShutdownCompleted)),
      Effect.catchIf(
        (e) => !(e instanceof CliExit),
        (e) => {
          switch (e._tag) {
            case "ListenError":
              return exitWith(1, `serve: cannot listen on ${e.address}: ${e.reason}`)
            case "TlsError":
              return exitWith(1, certificateProblem(settings.webhook.certDir, e.reason))
            case "ClientCaError":
              return exitWith(1, `serve: webhook.clientCAFile: ${e.reason}`)
            case "ConfigError":
              return exitWith(2, configMessage(e))
            case "KubeConfigError":
              return exitWith(2, `serve: ${e.message}`)
            default:
              return exitWith(1, `serve: cannot start: ${describe(e)}`)
          }
        }
      ),
      Effect.provide(loggingLayer(settings.webhook.logLevel))
    )
  })
