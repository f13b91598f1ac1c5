/**
 * WebhookConfig: the one config service. Reads Flyte's config file (spec: docs/flyte-compat.md; its `webhook:`
 * and `secrets:` sections, every other section of a propeller config ignored) plus our documented keys, and the
 * env vars `POD_NAMESPACE`, `POD_NAME` and the Global provider's `<env-prefix>*` variables, once, at start-up.
 * Nothing else reads `process.env` or the config file. The file is decoded by the Effect Schema in
 * config/WebhookSchema.ts, where every key has its default and its rules; the README's configuration reference
 * lists the same keys. A mistake is a ConfigError naming each bad key (config/ConfigIssues.ts).
 */
import { Context, Effect, Exit, Layer, Redacted, Result, Schema } from "effect"
import * as fs from "node:fs"
import { ConfigError } from "./config/ConfigError.ts"
import { problems } from "./config/ConfigIssues.ts"
import { isMapping } from "./config/ConfigValues.ts"
import { parseBytes } from "./config/TextDocument.ts"
import { ConfigFile, withoutFlyteOnlyKeys } from "./config/WebhookSchema.ts"

export { ConfigError }

/** A free-form Kubernetes object (a puller's resources, a label selector), already checked by the schema. */
export type Node = { readonly [key: string]: unknown }

export type Resources = Node

/** A puller init container's settings (AWS, GCP, Azure). */
export interface SidecarSettings {
  readonly sidecarImage: string
  readonly resources: Resources
}

export interface VaultSettings {
  /** `vault.hashicorp.com/role`. Default `flyte`. */
  readonly role: string
  /** Legacy KV engine version used when `group_version` is not kv1/kv2/db. `"1"` or `"2"`, default `"2"`. */
  readonly kvVersion: "1" | "2"
  /** Extra pod annotations; they override ours, and annotations already on the Pod override them. */
  readonly annotations: Readonly<Record<string, string>>
}

export type OnInjectionError = "deny" | "admit"
export type FailurePolicy = "Fail" | "Ignore"
export type ReinvocationPolicy = "Never" | "IfNeeded"
export type LogLevel = "All" | "Trace" | "Debug" | "Info" | "Warning" | "Error" | "Fatal" | "None"
export type CertSource = "files" | "secret"
export type TlsVersion = "1.2" | "1.3"

export interface WebhookSettings {
  // ---- Flyte's keys (spec section 4) ----
  /** Folder holding `tls.crt`, `tls.key` (and `ca.crt`). Default `/etc/webhook/certs`. */
  readonly certDir: string
  /** init-certs also writes the certificate files into certDir. Default false. */
  readonly localCert: boolean
  /** HTTPS port. Default 9443. */
  readonly listenPort: number
  /** Service name and MutatingWebhookConfiguration name. Default `flyte-pod-webhook`. */
  readonly serviceName: string
  /** Service port the API server calls. Default 443. */
  readonly servicePort: number
  /** Secret holding the certificates. Default `flyte-pod-webhook-secret`. */
  readonly secretName: string
  /** Ordered managers tried after Global: `secretManagerTypes`, else `[secretManagerType]`. Default `[K8s]`. */
  readonly secretManagerTypes: ReadonlyArray<string>
  readonly awsSecretManager: SidecarSettings
  readonly gcpSecretManager: SidecarSettings
  readonly azureSecretManager: SidecarSettings
  readonly vaultSecretManager: VaultSettings
  /** Do not create or update the MutatingWebhookConfiguration. Default false. */
  readonly disableCreateMutatingWebhookConfig: boolean
  /** namespaceSelector of the webhook (a LabelSelector). Default: none (all namespaces). */
  readonly namespaceSelector: Node | undefined

  // ---- Ours ----
  /** `deny` (default): a Pod whose secrets cannot all be injected is refused. `admit`: Flyte 1's behaviour. */
  readonly onInjectionError: OnInjectionError
  /** Use the Global provider (the webhook's own env and files). Default true. */
  readonly globalSecrets: boolean
  /** Address the HTTPS listener binds. Default `0.0.0.0`. */
  readonly listenAddress: string
  /** Plain-HTTP port for /healthz, /readyz, /metrics. Default 10254 (Flyte's profiling port). */
  readonly probePort: number
  /** Requests in work at once. Default 64 (from the benchmark; see README). */
  readonly maxInFlight: number
  /** Requests waiting for a slot; past it they get 429 with Retry-After at once. Default 256. */
  readonly maxQueue: number
  /**
   * Request body bytes held at once across all requests (bodies still arriving). A body that would pass it gets
   * 429 with Retry-After, so slow or huge uploads from anything that reaches the port cannot exhaust memory.
   * Default 64 MiB (a real API server sends at most ~3 MB per Pod review).
   */
  readonly maxBufferedBytes: number
  /** Deadline for a request without `?timeout=`, in seconds. Default 10 (the API server's default). */
  readonly requestTimeoutSeconds: number
  /** Seconds to keep serving after SIGTERM while endpoints update. Default 5. */
  readonly drainDelaySeconds: number
  /** Seconds to finish in-flight requests after the drain. Default 20. */
  readonly shutdownTimeoutSeconds: number
  /** JSON log level. Default Info. */
  readonly logLevel: LogLevel
  /** OTLP/HTTP endpoint for traces; tracing is off when unset. */
  readonly otlpEndpoint: string | undefined
  /** failurePolicy of the registered webhook. Default Fail. */
  readonly failurePolicy: FailurePolicy
  /** timeoutSeconds of the registered webhook (1-30). Default 10. */
  readonly timeoutSeconds: number
  /** reinvocationPolicy of the registered webhook. Default IfNeeded (we are idempotent). */
  readonly reinvocationPolicy: ReinvocationPolicy
  /** Register `clientConfig.url` instead of the Service (development, tests). Default: none. */
  readonly webhookUrl: string | undefined
  /** With disableCreateMutatingWebhookConfig: still keep an existing configuration's caBundle. Default false. */
  readonly manageCaBundleOnly: boolean
  /** Seconds between registration checks (caBundle drift, CA change). Default 60. */
  readonly registrationCheckSeconds: number
  /** Where serving certificates come from: the mounted `files` (default) or the `secret` through the API. */
  readonly certSource: CertSource
  /** RSA key sizes and validity. Defaults 3072 / 2048 bits, 3650 / 365 days. */
  readonly caKeySize: number
  readonly servingKeySize: number
  readonly caValidityDays: number
  readonly servingValidityDays: number
  /** Extra DNS names or IPs in the serving certificate. Default none. */
  readonly extraSANs: ReadonlyArray<string>
  /** Open connections the HTTPS listener accepts at once (node `server.maxConnections`). Default 1024. */
  readonly maxConnections: number
  /** Largest JSONPatch an answer may carry, in bytes (1024 to 7 MiB). Default 1 MiB. */
  readonly maxPatchBytes: number
  /** CA bundle for client-certificate authentication of the API server (issue 10). Default: none (off). */
  readonly clientCAFile: string | undefined
  /** Accepted client certificate names (CN or SAN); empty: any certificate from clientCAFile. Default []. */
  readonly clientNames: ReadonlyArray<string>
  /** Lowest TLS version the listener accepts. Default "1.2". */
  readonly tlsMinVersion: TlsVersion
  /** TLS 1.2 cipher suites as OpenSSL names (config/TlsCipherSuites.ts); empty: all of Mozilla intermediate's. */
  readonly tlsCipherSuites: ReadonlyArray<string>
}

export interface SecretsSettings {
  /** Folder of the Global provider's files: `<secretsPrefix>/<group>/<key>`. Default `/etc/secrets`. */
  readonly secretsPrefix: string
  /** Prefix of the Global provider's env vars: `<envPrefix><GROUP>_<KEY>`. Default `FLYTE_SECRET_`. */
  readonly envPrefix: string
}

export interface WebhookConfigShape {
  readonly webhook: WebhookSettings
  readonly secrets: SecretsSettings
  /** `POD_NAMESPACE`, default `flyte`. */
  readonly podNamespace: string
  /** `POD_NAME`, default empty. */
  readonly podName: string
  /** The Global provider's env vars (those starting with `secrets.envPrefix`), values redacted. */
  readonly globalEnv: ReadonlyMap<string, Redacted.Redacted<string>>
  /** Where the config came from, for logs (`<defaults>` when no file). */
  readonly source: string
}

/** decodeOptions: `webhook:` and `secrets:` are strict; every mistake is reported, not only the first. */
const decodeOptions = { onExcessProperty: "error", errors: "all" } as const
const decodeFile = Schema.decodeUnknownExit(ConfigFile)

/** toSettings: the decoded file under the settings' names (durations in seconds, managers as one list). */
const toSettings = (file: ConfigFile): { readonly webhook: WebhookSettings; readonly secrets: SecretsSettings } => {
  const {
    drainDelay,
    registrationCheckInterval,
    requestTimeout,
    secretManagerType,
    secretManagerTypes,
    shutdownTimeout,
    ...rest
  } = withoutFlyteOnlyKeys(file.webhook)
  return {
    webhook: {
      ...rest,
      secretManagerTypes: secretManagerTypes.length > 0 ? secretManagerTypes : [secretManagerType],
      requestTimeoutSeconds: requestTimeout,
      drainDelaySeconds: drainDelay,
      shutdownTimeoutSeconds: shutdownTimeout,
      registrationCheckSeconds: registrationCheckInterval
    },
    secrets: { secretsPrefix: file.secrets["secrets-prefix"], envPrefix: file.secrets["env-prefix"] }
  }
}

/** parseSettings turns a parsed YAML document into settings; throws ConfigError naming every bad key. */
export const parseSettings = (
  document: unknown,
  env: Readonly<Record<string, string | undefined>>,
  source: string
): WebhookConfigShape => {
  if (document !== undefined && document !== null && !isMapping(document)) {
    throw new ConfigError({ key: "<root>", message: `${source}: expected a YAML mapping at the top level` })
  }
  const decoded = decodeFile(document ?? {}, decodeOptions)
  if (Exit.isFailure(decoded)) {
    const error = decoded.cause.reasons.find((reason) => reason._tag === "Fail")?.error
    const found = error === undefined ? [] : problems(error.issue)
    throw new ConfigError({
      key: found[0]?.key ?? "<root>",
      message: found.length === 0 ? `${source}: cannot be read as a config file` : found.map((p) => p.message).join("\n")
    })
  }
  const { webhook, secrets } = toSettings(decoded.value)
  const globalEnv = new Map<string, Redacted.Redacted<string>>()
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && name.startsWith(secrets.envPrefix)) globalEnv.set(name, Redacted.make(value))
  }
  return {
    webhook,
    secrets,
    podNamespace: env["POD_NAMESPACE"] || "flyte",
    podName: env["POD_NAME"] ?? "",
    globalEnv,
    source
  }
}

/** A config file is at most this big (a ConfigMap holds at most 1 MiB); a larger file is a wrong path. */
const MAX_CONFIG_BYTES = 8 * 1024 * 1024

/** readConfigFile parses a YAML (or JSON) config file; throws ConfigError saying which file and why. */
export const readConfigFile = (path: string): unknown => {
  let bytes: Uint8Array
  try {
    const size = fs.statSync(path).size
    if (size > MAX_CONFIG_BYTES) {
      throw new ConfigError({ key: "<file>", message: `config file ${path} is ${size} bytes; a config file is at most ${MAX_CONFIG_BYTES}` })
    }
    bytes = fs.readFileSync(path)
  } catch (cause) {
    if (cause instanceof ConfigError) throw cause
    throw new ConfigError({ key: "<file>", message: `cannot read config file ${path}: ${(cause as Error).message}` })
  }
  const parsed = parseBytes(bytes, path)
  if (Result.isFailure(parsed)) throw new ConfigError({ key: "<file>", message: `config file ${path} ${parsed.failure.reason}` })
  return parsed.success.value
}

/** WebhookConfig is the settings service; read once when its layer is built. */
export class WebhookConfig extends Context.Service<WebhookConfig, WebhookConfigShape>()(
  "flyte-pod-webhook/WebhookConfig"
) {
  /** load reads an optional file plus the process environment. */
  static readonly load = (path: string | undefined): Effect.Effect<WebhookConfigShape, ConfigError> =>
    Effect.try({
      try: () => parseSettings(path === undefined ? {} : readConfigFile(path), process.env, path ?? "<defaults>"),
      catch: (cause) =>
        cause instanceof ConfigError ? cause : new ConfigError({ key: "<file>", message: String(cause) })
    })

  /** layerFile: the live layer for a config file (or defaults when undefined). */
  static readonly layerFile = (path: string | undefined) => Layer.effect(WebhookConfig, WebhookConfig.load(path))

  /** layerTest: settings from an in-memory document and env, for tests. */
  static readonly layerTest = (document: unknown = {}, env: Readonly<Record<string, string>> = {}) =>
    Layer.effect(
      WebhookConfig,
      Effect.try({
        try: () => parseSettings(document, env, "<test>"),
        catch: (cause) => cause as ConfigError
      })
    )
}
