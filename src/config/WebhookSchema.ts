/**
 * WebhookSchema: the config file as an Effect Schema: Flyte's `webhook:` and `secrets:` sections plus our keys,
 * each with its default and what it accepts. Both sections are strict (decoded with `onExcessProperty:
 * "error"`): a misspelt key is an error, never a silently ignored setting. Every other top-level section of a
 * Flyte config (propeller:, storage:, tasks:, ...) passes through unread.
 *
 * Flyte's keys this webhook does not act on are accepted and ignored (FLYTE_ONLY_KEYS), so a Flyte config file
 * still loads; the README's configuration reference lists them. Key names are case-sensitive.
 */
import { Schema } from "effect"
import { closestKey, editDistance } from "./ConfigIssues.ts"
import {
  boolean,
  byteSize,
  choice,
  duration,
  field,
  integer,
  leaf,
  list,
  optionalField,
  section,
  strictText,
  text,
  type Value
} from "./ConfigValues.ts"
import { isHostOrIp, isDnsSubdomain, isServiceName } from "./KubeNames.ts"
import { annotations, image, labelSelector, resources } from "./KubeValues.ts"
import { openSslName } from "./TlsCipherSuites.ts"

const defaultResources = {
  requests: { cpu: "200m", memory: "500Mi" },
  limits: { cpu: "200m", memory: "500Mi" }
}

const sidecar = (defaultImage: string) =>
  section(Schema.Struct({
    sidecarImage: field(image, defaultImage),
    resources: field(resources, defaultResources)
  }))

/** Flyte's SecretManagerType enum numbers (flytepropeller `webhook/config`): Global=0 ... Azure=6. */
const flyteManagerNumbers = ["Global", "K8s", "AWS", "GCP", "Vault", "Embedded", "Azure"]

/** A manager name; SecretLookup checks it against the registry (a new manager needs no config change). */
const managerName: Value<string> = leaf(
  Schema.String,
  "a secret manager name (Global, K8s, AWS, GCP, Vault, Azure) or Flyte's number for one (0-6)",
  (u) =>
    typeof u === "number"
      ? flyteManagerNumbers[u]
      : typeof u === "string" && /^\s*\d+\s*$/.test(u)
      ? flyteManagerNumbers[Number(u)]
      : typeof u === "string" && u.trim() !== ""
      ? u.trim()
      : undefined
)

const path = strictText("a path", (s) => s.trim() !== "")

const url = (expected: string, test: (u: URL) => boolean) =>
  strictText(expected, (s) => URL.canParse(s) && test(new URL(s)))

const cipherSuite: Value<string> = leaf(
  Schema.String,
  "a TLS 1.2 cipher suite of Mozilla's intermediate set, by IANA or OpenSSL name (README, tlsCipherSuites)",
  (u) => typeof u === "string" ? openSslName(u) : undefined
)

/** Keys of Flyte's webhook config that this webhook accepts and does not use (README explains each). */
export const FLYTE_ONLY_KEYS = [
  "metrics-prefix",
  "embeddedSecretManagerConfig",
  "imageBuilderConfig",
  "webhookTimeout",
  "kubeClientConfig",
  "secretEnvVarPrefix"
] as const

const ignored = Schema.optionalKey(Schema.Unknown)

type FlyteOnlyKey = typeof FLYTE_ONLY_KEYS[number]

/** withoutFlyteOnlyKeys: the webhook section without the Flyte keys this webhook accepts and ignores. */
export const withoutFlyteOnlyKeys = <A extends Partial<Record<FlyteOnlyKey, unknown>>>(section: A): Omit<A, FlyteOnlyKey> => {
  const copy: Record<string, unknown> = { ...section }
  for (const key of FLYTE_ONLY_KEYS) delete copy[key]
  return copy as Omit<A, FlyteOnlyKey>
}

export const WebhookSection = Schema.Struct({
  // ---- Flyte's keys ----
  certDir: field(path, "/etc/webhook/certs"),
  localCert: field(boolean, false),
  listenPort: field(integer(0, 65535), 9443),
  serviceName: field(
    text({ expected: "a Service name (at most 63 lower-case letters, digits and \"-\", starting with a letter)", test: isServiceName }),
    "flyte-pod-webhook"
  ),
  servicePort: field(integer(1, 65535), 443),
  secretName: field(
    text({ expected: "a Secret name (lower-case letters, digits, \"-\" and \".\", at most 253)", test: isDnsSubdomain }),
    "flyte-pod-webhook-secret"
  ),
  secretManagerType: field(managerName, "K8s"),
  secretManagerTypes: field(list(managerName, "a list of secret manager names"), []),
  awsSecretManager: sidecar("docker.io/amazon/aws-secrets-manager-secret-sidecar:v0.1.4"),
  gcpSecretManager: sidecar("gcr.io/google.com/cloudsdktool/cloud-sdk:alpine"),
  azureSecretManager: sidecar("mcr.microsoft.com/azure-cli:cbl-mariner2.0"),
  vaultSecretManager: section(Schema.Struct({
    role: field(text({ expected: "a Vault role name", test: (s) => s.trim() !== "" }), "flyte"),
    kvVersion: field(choice(["1", "2"]), "2"),
    annotations: field(annotations, {})
  })),
  disableCreateMutatingWebhookConfig: field(boolean, false),
  namespaceSelector: optionalField(labelSelector),
  ...Object.fromEntries(FLYTE_ONLY_KEYS.map((key) => [key, ignored])) as Record<typeof FLYTE_ONLY_KEYS[number], typeof ignored>,

  // ---- Ours ----
  onInjectionError: field(choice(["deny", "admit"]), "deny"),
  globalSecrets: field(boolean, true),
  listenAddress: field(text({ expected: "an IP address or a host name", test: (s) => isHostOrIp(s) }), "0.0.0.0"),
  probePort: field(integer(0, 65535), 10254),
  maxInFlight: field(integer(1, 100_000), 64),
  maxQueue: field(integer(0, 1_000_000), 256),
  maxBufferedBytes: field(byteSize(1024 * 1024, 4 * 1024 * 1024 * 1024), 64 * 1024 * 1024),
  maxConnections: field(integer(1, 1_000_000), 1024),
  maxPatchBytes: field(byteSize(1024, 7 * 1024 * 1024), 1024 * 1024),
  // The API server waits at most 30 s for a webhook (timeoutSeconds 1-30): a longer deadline is never honoured.
  requestTimeout: field(duration(0.1, 30), 10),
  drainDelay: field(duration(0, 600), 5),
  shutdownTimeout: field(duration(0, 600), 20),
  logLevel: field(
    choice(["All", "Trace", "Debug", "Info", "Warning", "Error", "Fatal", "None"], { Warn: "Warning" }),
    "Info"
  ),
  otlpEndpoint: optionalField(
    url("an http:// or https:// URL of an OTLP/HTTP collector", (u) => u.protocol === "http:" || u.protocol === "https:")
  ),
  failurePolicy: field(choice(["Fail", "Ignore"]), "Fail"),
  timeoutSeconds: field(integer(1, 30), 10),
  reinvocationPolicy: field(choice(["Never", "IfNeeded"]), "IfNeeded"),
  // admissionregistration/v1 validation: https, no user info, no query, no fragment.
  webhookUrl: optionalField(url(
    "an https:// URL without user info, query or fragment",
    (u) => u.protocol === "https:" && u.username === "" && u.password === "" && u.search === "" && u.hash === ""
  )),
  manageCaBundleOnly: field(boolean, false),
  registrationCheckInterval: field(duration(0.1, 86_400), 60),
  certSource: field(choice(["files", "secret"]), "files"),
  caKeySize: field(integer(2048, 8192), 3072),
  servingKeySize: field(integer(2048, 8192), 2048),
  caValidityDays: field(integer(1, 36500), 3650),
  servingValidityDays: field(integer(1, 3650), 365),
  extraSANs: field(
    list(text({ expected: "a DNS name or an IP address", test: (s) => isHostOrIp(s, { wildcard: true }) }), "a list of DNS names or IP addresses"),
    []
  ),
  clientCAFile: optionalField(path),
  clientNames: field(list(text({ expected: "a certificate name", test: (s) => s.trim() !== "" }), "a list of certificate names"), []),
  tlsMinVersion: field(
    choice(["1.2", "1.3"], { "TLSv1.2": "1.2", "TLSv1.3": "1.3", VersionTLS12: "1.2", VersionTLS13: "1.3" }),
    "1.2"
  ),
  tlsCipherSuites: field(list(cipherSuite, "a list of cipher suite names"), [])
})

export const SecretsSection = Schema.Struct({
  "secrets-prefix": field(path, "/etc/secrets"),
  // Empty would make every env var of the webhook (tokens, cloud credentials) a Global secret a Pod could ask for.
  "env-prefix": field(text({ expected: "a non-empty env var prefix", test: (s) => s !== "" }), "FLYTE_SECRET_"),
  type: Schema.optionalKey(Schema.Unknown) // Flyte 2's secret store type ("local"): the Global provider is ours
})

/** The webhook's cross-key rules, reported under the key to change. */
const distinctPorts = Schema.makeFilter<typeof WebhookSection.Type>((w) =>
  w.listenPort !== 0 && w.listenPort === w.probePort
    ? { path: ["probePort"], issue: `must differ from webhook.listenPort (both ${w.listenPort})` }
    : undefined
)

/** clientNames narrows the certificates of webhook.clientCAFile: without that file no certificate is asked for. */
const namesNeedClientCa = Schema.makeFilter<typeof WebhookSection.Type>((w) =>
  w.clientNames.length > 0 && w.clientCAFile === undefined
    ? { path: ["clientNames"], issue: "needs webhook.clientCAFile (the CA whose client certificates these names narrow)" }
    : undefined
)

/**
 * A top-level key within two edits of `webhook` or `secrets` (`webhok:`, `Secrets:`) is a misspelt section, not
 * one of Flyte's other sections (none of which is that close): ignoring it would drop every setting in it.
 */
const misspeltSections = Schema.makeFilter<{ readonly [key: string]: unknown }>((file) =>
  Object.keys(file).flatMap((key) => {
    if (key === "webhook" || key === "secrets") return []
    const near = closestKey(key, ["webhook", "secrets"])
    return near !== undefined && editDistance(key, near) <= 2
      ? [{ path: [key], issue: `unknown section (did you mean ${near}?)` }]
      : []
  })
)

/** ConfigFile: the whole file; unknown top-level sections (the rest of a propeller config) are ignored. */
export const ConfigFile = Schema.StructWithRest(
  Schema.Struct({
    webhook: section(WebhookSection.pipe(Schema.check(distinctPorts, namesNeedClientCa))),
    secrets: section(SecretsSection)
  }),
  [Schema.Record(Schema.String, Schema.Unknown)]
).pipe(Schema.check(misspeltSections))

export type ConfigFile = typeof ConfigFile.Type
