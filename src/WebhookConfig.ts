/**
 * WebhookConfig: the one config service. Reads Flyte's YAML (spec section 4: `webhook:` and `secrets:`; every
 * other section of a propeller config is ignored) plus our documented keys, and the env vars `POD_NAMESPACE`,
 * `POD_NAME` and the Global provider's `<env-prefix>*` variables, once, at start-up. Nothing else reads
 * `process.env` or the config file. Every default is written beside its field; the README's config reference
 * lists the same keys.
 */
import { Context, Effect, Layer, Redacted } from "effect"
import * as fs from "node:fs"
import * as YAML from "yaml"
import {
  boolean,
  ConfigError,
  integer,
  isNode,
  type Node,
  object,
  oneOf,
  optionalString,
  seconds,
  section,
  string,
  stringList,
  stringMap
} from "./config/ConfigReader.ts"

export { ConfigError }

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
  /** Open connections to the HTTPS port at most (Node's server.maxConnections); past it new ones are closed. Default 1024. */
  readonly maxConnections: number
  /** Largest JSONPatch an answer may carry; a review whose patch would be larger is refused. Default 1 MiB. */
  readonly maxPatchBytes: number
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

const defaultResources: Resources = {
  requests: { cpu: "200m", memory: "500Mi" },
  limits: { cpu: "200m", memory: "500Mi" }
}

const sidecar = (node: Node, name: string, image: string): SidecarSettings => {
  const s = section(node, name, `webhook.${name}`)
  return {
    sidecarImage: string(s, "sidecarImage", `webhook.${name}.sidecarImage`, image),
    resources: object(s, "resources", `webhook.${name}.resources`) ?? defaultResources
  }
}

const managerTypes = (w: Node): ReadonlyArray<string> => {
  const list = stringList(w, "secretManagerTypes", "webhook.secretManagerTypes", [])
  if (list.length > 0) return list
  const single = w["secretManagerType"]
  // Flyte's enum also accepts its numeric value (Global=0, K8s=1, AWS=2, GCP=3, Vault=4).
  if (typeof single === "number") {
    const byNumber = ["Global", "K8s", "AWS", "GCP", "Vault"][single]
    if (byNumber !== undefined) return [byNumber]
  }
  return [string(w, "secretManagerType", "webhook.secretManagerType", "K8s")]
}

/** parseSettings turns a parsed YAML document into settings; throws ConfigError naming the key. */
export const parseSettings = (
  document: unknown,
  env: Readonly<Record<string, string | undefined>>,
  source: string
): WebhookConfigShape => {
  if (document !== undefined && document !== null && !isNode(document)) {
    throw new ConfigError({ key: "<root>", message: `${source}: expected a YAML mapping at the top level` })
  }
  const root: Node = document ?? {}
  const w = section(root, "webhook", "webhook")
  const s = section(root, "secrets", "secrets")
  const vault = section(w, "vaultSecretManager", "webhook.vaultSecretManager")
  const webhook: WebhookSettings = {
    certDir: string(w, "certDir", "webhook.certDir", "/etc/webhook/certs"),
    localCert: boolean(w, "localCert", "webhook.localCert", false),
    listenPort: integer(w, "listenPort", "webhook.listenPort", 9443, { min: 0, max: 65535 }),
    serviceName: string(w, "serviceName", "webhook.serviceName", "flyte-pod-webhook"),
    servicePort: integer(w, "servicePort", "webhook.servicePort", 443, { min: 1, max: 65535 }),
    secretName: string(w, "secretName", "webhook.secretName", "flyte-pod-webhook-secret"),
    secretManagerTypes: managerTypes(w),
    awsSecretManager: sidecar(w, "awsSecretManager", "docker.io/amazon/aws-secrets-manager-secret-sidecar:v0.1.4"),
    gcpSecretManager: sidecar(w, "gcpSecretManager", "gcr.io/google.com/cloudsdktool/cloud-sdk:alpine"),
    azureSecretManager: sidecar(w, "azureSecretManager", "mcr.microsoft.com/azure-cli:cbl-mariner2.0"),
    vaultSecretManager: {
      role: string(vault, "role", "webhook.vaultSecretManager.role", "flyte"),
      kvVersion: oneOf(vault, "kvVersion", "webhook.vaultSecretManager.kvVersion", "2", ["1", "2"]),
      annotations: stringMap(vault, "annotations", "webhook.vaultSecretManager.annotations")
    },
    disableCreateMutatingWebhookConfig: boolean(
      w,
      "disableCreateMutatingWebhookConfig",
      "webhook.disableCreateMutatingWebhookConfig",
      false
    ),
    namespaceSelector: object(w, "namespaceSelector", "webhook.namespaceSelector"),
    onInjectionError: oneOf(w, "onInjectionError", "webhook.onInjectionError", "deny", ["deny", "admit"]),
    globalSecrets: boolean(w, "globalSecrets", "webhook.globalSecrets", true),
    listenAddress: string(w, "listenAddress", "webhook.listenAddress", "0.0.0.0"),
    probePort: integer(w, "probePort", "webhook.probePort", 10254, { min: 0, max: 65535 }),
    maxInFlight: integer(w, "maxInFlight", "webhook.maxInFlight", 64, { min: 1, max: 100_000 }),
    maxQueue: integer(w, "maxQueue", "webhook.maxQueue", 256, { min: 0, max: 1_000_000 }),
    maxBufferedBytes: integer(w, "maxBufferedBytes", "webhook.maxBufferedBytes", 64 * 1024 * 1024, {
      min: 1024 * 1024,
      max: 4 * 1024 * 1024 * 1024
    }),
    maxConnections: integer(w, "maxConnections", "webhook.maxConnections", 1024, { min: 1, max: 1_000_000 }),
    maxPatchBytes: integer(w, "maxPatchBytes", "webhook.maxPatchBytes", 1024 * 1024, { min: 1024, max: 7 * 1024 * 1024 }),
    requestTimeoutSeconds: seconds(w, "requestTimeout", "webhook.requestTimeout", 10),
    drainDelaySeconds: seconds(w, "drainDelay", "webhook.drainDelay", 5),
    shutdownTimeoutSeconds: seconds(w, "shutdownTimeout", "webhook.shutdownTimeout", 20),
    logLevel: oneOf(w, "logLevel", "webhook.logLevel", "Info", [
      "All", "Trace", "Debug", "Info", "Warning", "Error", "Fatal", "None"
    ]),
    otlpEndpoint: optionalString(w, "otlpEndpoint", "webhook.otlpEndpoint"),
    failurePolicy: oneOf(w, "failurePolicy", "webhook.failurePolicy", "Fail", ["Fail", "Ignore"]),
    timeoutSeconds: integer(w, "timeoutSeconds", "webhook.timeoutSeconds", 10, { min: 1, max: 30 }),
    reinvocationPolicy: oneOf(w, "reinvocationPolicy", "webhook.reinvocationPolicy", "IfNeeded", [
      "Never", "IfNeeded"
    ]),
    webhookUrl: optionalString(w, "webhookUrl", "webhook.webhookUrl"),
    manageCaBundleOnly: boolean(w, "manageCaBundleOnly", "webhook.manageCaBundleOnly", false),
    registrationCheckSeconds: seconds(w, "registrationCheckInterval", "webhook.registrationCheckInterval", 60),
    certSource: oneOf(w, "certSource", "webhook.certSource", "files", ["files", "secret"]),
    caKeySize: integer(w, "caKeySize", "webhook.caKeySize", 3072, { min: 2048, max: 8192 }),
    servingKeySize: integer(w, "servingKeySize", "webhook.servingKeySize", 2048, { min: 2048, max: 8192 }),
    caValidityDays: integer(w, "caValidityDays", "webhook.caValidityDays", 3650, { min: 1, max: 36500 }),
    servingValidityDays: integer(w, "servingValidityDays", "webhook.servingValidityDays", 365, {
      min: 1,
      max: 3650
    }),
    extraSANs: stringList(w, "extraSANs", "webhook.extraSANs", [])
  }
  const secrets: SecretsSettings = {
    secretsPrefix: string(s, "secrets-prefix", "secrets.secrets-prefix", "/etc/secrets"),
    envPrefix: string(s, "env-prefix", "secrets.env-prefix", "FLYTE_SECRET_")
  }
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

/** readConfigFile parses a YAML (or JSON) config file; throws ConfigError saying which file and why. */
export const readConfigFile = (path: string): unknown => {
  let text: string
  try {
    text = fs.readFileSync(path, "utf8")
  } catch (cause) {
    throw new ConfigError({ key: "<file>", message: `cannot read config file ${path}: ${(cause as Error).message}` })
  }
  try {
    return YAML.parse(text)
  } catch (cause) {
    throw new ConfigError({ key: "<file>", message: `config file ${path} is not valid YAML: ${(cause as Error).message}` })
  }
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
