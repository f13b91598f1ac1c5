/**
 * The config file's Schema (src/config/WebhookSchema.ts): strict `webhook:` and `secrets:` sections (a misspelt
 * key names the closest real one), every other section of a real Flyte config ignored, and the values the API
 * server or the kubelet would refuse later (quantities, images, names, selectors, URLs) refused at start-up with
 * the dotted key, what was expected and what was found.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import * as YAML from "yaml"
import { ConfigError, parseSettings } from "../../src/WebhookConfig.ts"

const parse = (document: unknown) => parseSettings(document, {}, "<test>")

const errorOf = (document: unknown): ConfigError => {
  try {
    parse(document)
  } catch (e) {
    if (e instanceof ConfigError) return e
    throw e
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(document)}`)
}

const flyteConfig = fs.readFileSync(path.join(import.meta.dirname, "fixtures/flyte-propeller-config.yaml"), "utf8")

describe("a whole Flyte propeller config", () => {
  it("loads: webhook and secrets are read, every other section and Flyte's own unused webhook keys are ignored", () => {
    const c = parse(YAML.parse(flyteConfig))
    assert.strictEqual(c.webhook.listenPort, 9443)
    assert.strictEqual(c.webhook.secretName, "flyte-pod-webhook")
    assert.deepStrictEqual(c.webhook.secretManagerTypes, ["AWS"])
    assert.deepStrictEqual(c.webhook.awsSecretManager.resources, {
      requests: { cpu: "200m", memory: "500Mi" },
      limits: { cpu: "200m", memory: "500Mi" }
    })
    assert.deepStrictEqual(c.secrets, { secretsPrefix: "/etc/secrets", envPrefix: "FLYTE_SECRET_" })
    for (const unused of ["metrics-prefix", "embeddedSecretManagerConfig"]) assert.notProperty(c.webhook, unused)
    assert.deepStrictEqual(Object.keys(c.webhook).sort(), Object.keys(parse(undefined).webhook).sort())
  })

  it("with a misspelt key in it, names the key and the one meant", () => {
    const text = flyteConfig.replace("  secretManagerType: AWS", "  secretManagerTyp: AWS")
    assert.notStrictEqual(text, flyteConfig)
    const e = errorOf(YAML.parse(text))
    assert.strictEqual(e.key, "webhook.secretManagerTyp")
    assert.strictEqual(e.message, "webhook.secretManagerTyp: unknown key (did you mean secretManagerType?)")
  })
})

describe("unknown keys: the dotted key and the closest known one", () => {
  it.each([
    [{ webhook: { secretManagerTyp: "AWS" } }, "webhook.secretManagerTyp: unknown key (did you mean secretManagerType?)"],
    [{ webhook: { onInjectionErorr: "admit" } }, "webhook.onInjectionErorr: unknown key (did you mean onInjectionError?)"],
    [{ webhook: { listenport: 8443 } }, "webhook.listenport: unknown key (did you mean listenPort?)"],
    [{ secrets: { "secret-prefix": "/x" } }, "secrets.secret-prefix: unknown key (did you mean secrets-prefix?)"],
    [{ webhook: { awsSecretManager: { resources: { request: { cpu: "1" } } } } },
      "webhook.awsSecretManager.resources.request: unknown key (did you mean requests?)"],
    [{ webhook: { vaultSecretManager: { kvversion: 1 } } }, "webhook.vaultSecretManager.kvversion: unknown key (did you mean kvVersion?)"],
    [{ webhook: { gcpSecretManager: { image: "x" } } },
      "webhook.gcpSecretManager.image: unknown key (known keys: sidecarImage, resources)"],
    [{ webhook: { frobnicate: 1 } }, "webhook.frobnicate: unknown key (see the README's configuration reference)"],
    [{ webhok: { listenPort: 1 } }, "webhok: unknown section (did you mean webhook?)"],
    [{ Secrets: { "env-prefix": "X_" } }, "Secrets: unknown section (did you mean secrets?)"]
  ] as const)("%j", (document, message) => {
    const e = errorOf(document)
    assert.strictEqual(e.message, message)
    assert.strictEqual(e.key, message.slice(0, message.indexOf(":")))
  })

  it("every mistake at once, one line each, the first one's key on the error", () => {
    const e = errorOf({ webhook: { listenPort: "abc", secretManagerTyp: "AWS", maxQueue: -1 } })
    assert.strictEqual(e.key, e.message.slice(0, e.message.indexOf(":")))
    assert.sameMembers(e.message.split("\n"), [
      'webhook.listenPort: expected an integer from 0 to 65535, got "abc"',
      "webhook.maxQueue: expected an integer from 0 to 1000000, got -1",
      "webhook.secretManagerTyp: unknown key (did you mean secretManagerType?)"
    ])
  })
})

const quantityExpected = "a Kubernetes quantity such as 200m, 1.5, 500Mi or 2Gi (a number with an optional suffix m, k, M, G, Ki, Mi, Gi, ...)"
const imageExpected =
  "an image reference such as registry.example.com/team/image:1.0 (lower-case repository path, optional :tag and @sha256:digest)"

describe("values the API server or the kubelet would refuse later", () => {
  it.each([
    [{ webhook: { awsSecretManager: { resources: { requests: { cpu: "lots" } } } } },
      `webhook.awsSecretManager.resources.requests.cpu: expected ${quantityExpected}, got "lots"`],
    [{ webhook: { gcpSecretManager: { resources: { limits: { memory: "-1Gi" } } } } },
      `webhook.gcpSecretManager.resources.limits.memory: expected ${quantityExpected}, got "-1Gi"`],
    [{ webhook: { gcpSecretManager: { resources: { limits: { memory: "1GB" } } } } },
      `webhook.gcpSecretManager.resources.limits.memory: expected ${quantityExpected}, got "1GB"`],
    [{ webhook: { awsSecretManager: { resources: { requests: { cpu: "500m" }, limits: { cpu: "200m" } } } } },
      'webhook.awsSecretManager.resources.requests.cpu: "500m" is more than its limit "200m" (limits.cpu)'],
    [{ webhook: { awsSecretManager: { resources: { limits: { gpu: 1 } } } } },
      "webhook.awsSecretManager.resources.limits.gpu: not a container resource name (cpu, memory, ephemeral-storage, hugepages-<size> or <domain>/<name>)"],
    [{ webhook: { awsSecretManager: { resources: { limits: { memroy: "1Gi" } } } } },
      "webhook.awsSecretManager.resources.limits.memroy: not a container resource name (cpu, memory, ephemeral-storage, hugepages-<size> or <domain>/<name>) (did you mean memory?)"],
    [{ webhook: { awsSecretManager: { sidecarImage: 5 } } }, `webhook.awsSecretManager.sidecarImage: expected ${imageExpected}, got 5`],
    [{ webhook: { azureSecretManager: { sidecarImage: "My Image:latest" } } },
      `webhook.azureSecretManager.sidecarImage: expected ${imageExpected}, got "My Image:latest"`],
    [{ webhook: { serviceName: "Flyte_Webhook" } },
      'webhook.serviceName: expected a Service name (at most 63 lower-case letters, digits and "-", starting with a letter), got "Flyte_Webhook"'],
    [{ webhook: { secretName: "Certs" } },
      'webhook.secretName: expected a Secret name (lower-case letters, digits, "-" and ".", at most 253), got "Certs"'],
    [{ webhook: { vaultSecretManager: { annotations: { "bad key!": "x" } } } },
      'webhook.vaultSecretManager.annotations["bad key!"]: not an annotation key (an optional DNS-subdomain prefix and "/", then at most 63 letters, digits, "-", "_" or "." starting and ending alphanumeric)'],
    [{ webhook: { namespaceSelector: { matchExpressions: [{ key: "team", operator: "Within", values: ["a"] }] } } },
      'webhook.namespaceSelector.matchExpressions[0].operator: expected one of In, NotIn, Exists, DoesNotExist, got "Within"'],
    [{ webhook: { namespaceSelector: { matchExpressions: [{ key: "team", operator: "In" }] } } },
      "webhook.namespaceSelector.matchExpressions[0].values: operator In needs at least one value"],
    [{ webhook: { namespaceSelector: { matchLabels: { team: "a b" } } } },
      'webhook.namespaceSelector.matchLabels.team: expected a label value: at most 63 letters, digits, "-", "_" or ".", starting and ending alphanumeric, got "a b"'],
    [{ webhook: { webhookUrl: "http://127.0.0.1:9443/mutate" } },
      'webhook.webhookUrl: expected an https:// URL without user info, query or fragment, got "http://127.0.0.1:9443/mutate"'],
    [{ webhook: { otlpEndpoint: "collector:4318" } },
      'webhook.otlpEndpoint: expected an http:// or https:// URL of an OTLP/HTTP collector, got "collector:4318"'],
    [{ webhook: { extraSANs: ["ok.example.com", "not a name"] } },
      'webhook.extraSANs[1]: expected a DNS name or an IP address, got "not a name"'],
    [{ secrets: { "env-prefix": "" } }, 'secrets.env-prefix: expected a non-empty env var prefix, got ""']
  ] as const)("%j", (document, message) => {
    assert.strictEqual(errorOf(document).message, message)
  })

  it("accepts what the API server accepts: quantities in every form, YAML numbers as their text", () => {
    const resources = {
      requests: { cpu: 0.5, memory: "1.5Gi", "ephemeral-storage": "1e9", "hugepages-2Mi": "0", "example.com/fpga": 1 },
      limits: { cpu: "1", memory: "2G", "ephemeral-storage": "2e9", "example.com/fpga": "1" }
    }
    assert.deepStrictEqual(parse({ webhook: { awsSecretManager: { resources } } }).webhook.awsSecretManager.resources, {
      requests: { cpu: "0.5", memory: "1.5Gi", "ephemeral-storage": "1e9", "hugepages-2Mi": "0", "example.com/fpga": "1" },
      limits: { cpu: "1", memory: "2G", "ephemeral-storage": "2e9", "example.com/fpga": "1" }
    })
  })

  it.each([
    "busybox",
    "busybox:1.36",
    "docker.io/library/busybox:1.36",
    "registry.example.com:5000/team/puller:v1.2.3",
    "localhost/puller",
    "[::1]:5000/puller:dev",
    `ghcr.io/org/puller@sha256:${"a".repeat(64)}`,
    `ghcr.io/org/puller:1.0@sha256:${"b".repeat(64)}`
  ])("image %s is accepted", (image) => {
    assert.strictEqual(parse({ webhook: { gcpSecretManager: { sidecarImage: image } } }).webhook.gcpSecretManager.sidecarImage, image)
  })

  it("a label selector in every shape metav1 allows", () => {
    const selector = {
      matchLabels: { "flyte.org/enabled": "true" },
      matchExpressions: [{ key: "team", operator: "in", values: ["a", "b"] }, { key: "legacy", operator: "DoesNotExist" }]
    }
    assert.deepStrictEqual(parse({ webhook: { namespaceSelector: selector } }).webhook.namespaceSelector, {
      matchLabels: { "flyte.org/enabled": "true" },
      matchExpressions: [{ key: "team", operator: "In", values: ["a", "b"] }, { key: "legacy", operator: "DoesNotExist" }]
    })
  })
})

describe("durations, ports and enums", () => {
  it.each([
    ["1500ms", 1.5],
    ["1m30s", 90],
    [2, 2],
    ["2", 2],
    ["0.5s", 0.5]
  ] as const)("drainDelay %j is %j seconds", (value, seconds) => {
    assert.strictEqual(parse({ webhook: { drainDelay: value } }).webhook.drainDelaySeconds, seconds)
  })

  it.each([
    [{ webhook: { requestTimeout: "45s" } },
      'webhook.requestTimeout: expected a duration from 100ms to 30s (seconds, or Go\'s syntax such as "500ms", "5s", "1m30s"), got "45s"'],
    [{ webhook: { drainDelay: -1 } },
      'webhook.drainDelay: expected a duration from 0s to 10m (seconds, or Go\'s syntax such as "500ms", "5s", "1m30s"), got -1'],
    [{ webhook: { registrationCheckInterval: "2d" } },
      'webhook.registrationCheckInterval: expected a duration from 100ms to 24h (seconds, or Go\'s syntax such as "500ms", "5s", "1m30s"), got "2d"'],
    [{ webhook: { listenPort: 9443, probePort: 9443 } }, "webhook.probePort: must differ from webhook.listenPort (both 9443)"],
    [{ webhook: { servicePort: 0 } }, "webhook.servicePort: expected an integer from 1 to 65535, got 0"],
    [{ webhook: { failurePolicy: "Sometimes" } }, 'webhook.failurePolicy: expected one of Fail, Ignore, got "Sometimes"'],
    [{ webhook: { logLevel: "verbose" } },
      'webhook.logLevel: expected one of All, Trace, Debug, Info, Warning, Error, Fatal, None, got "verbose"']
  ] as const)("%j", (document, message) => {
    assert.strictEqual(errorOf(document).message, message)
  })

  it("enums match case-insensitively and take the spellings people use", () => {
    const w = parse({ webhook: { logLevel: "warn", failurePolicy: "ignore", certSource: "Secret", reinvocationPolicy: "never" } }).webhook
    assert.deepStrictEqual([w.logLevel, w.failurePolicy, w.certSource, w.reinvocationPolicy], ["Warning", "Ignore", "secret", "Never"])
  })

  it("Flyte's manager numbers, Azure included", () => {
    assert.deepStrictEqual(parse({ webhook: { secretManagerType: 6 } }).webhook.secretManagerTypes, ["Azure"])
    assert.deepStrictEqual(parse({ webhook: { secretManagerTypes: ["Vault", 1] } }).webhook.secretManagerTypes, ["Vault", "K8s"])
  })
})

describe("the listener keys shared with issues 9 and 10", () => {
  it("defaults", () => {
    const w = parse(undefined).webhook
    assert.strictEqual(w.maxConnections, 1024)
    assert.strictEqual(w.maxPatchBytes, 1048576)
    assert.isUndefined(w.clientCAFile)
    assert.deepStrictEqual(w.clientNames, [])
    assert.strictEqual(w.tlsMinVersion, "1.2")
    assert.deepStrictEqual(w.tlsCipherSuites, [])
  })

  it("values, with sizes as quantities, TLS versions as Kubernetes flags spell them, suites by either name", () => {
    const w = parse({
      webhook: {
        maxConnections: 200,
        maxPatchBytes: "2Mi",
        clientCAFile: "/etc/webhook/client-ca/ca.crt",
        clientNames: ["kube-apiserver", "system:kube-apiserver"],
        tlsMinVersion: "VersionTLS13",
        tlsCipherSuites: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ecdhe-ecdsa-aes256-gcm-sha384", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305"]
      }
    }).webhook
    assert.strictEqual(w.maxConnections, 200)
    assert.strictEqual(w.maxPatchBytes, 2 * 1024 * 1024)
    assert.strictEqual(w.clientCAFile, "/etc/webhook/client-ca/ca.crt")
    assert.deepStrictEqual(w.clientNames, ["kube-apiserver", "system:kube-apiserver"])
    assert.strictEqual(w.tlsMinVersion, "1.3")
    assert.deepStrictEqual(w.tlsCipherSuites, ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"])
    assert.strictEqual(parse({ webhook: { tlsMinVersion: 1.2 } }).webhook.tlsMinVersion, "1.2")
  })

  it.each([
    [{ webhook: { maxPatchBytes: 512 } }, "webhook.maxPatchBytes: expected a size in bytes from 1024 to 7340032 (an integer, or a quantity such as 64Mi), got 512"],
    [{ webhook: { maxPatchBytes: "8Mi" } }, 'webhook.maxPatchBytes: expected a size in bytes from 1024 to 7340032 (an integer, or a quantity such as 64Mi), got "8Mi"'],
    [{ webhook: { maxConnections: 0 } }, "webhook.maxConnections: expected an integer from 1 to 1000000, got 0"],
    [{ webhook: { tlsMinVersion: "1.1" } }, 'webhook.tlsMinVersion: expected one of 1.2, 1.3, got "1.1"'],
    [{ webhook: { tlsCipherSuites: ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA"] } },
      'webhook.tlsCipherSuites[1]: expected a TLS 1.2 cipher suite of Mozilla\'s intermediate set, by IANA or OpenSSL name (README, tlsCipherSuites), got "TLS_RSA_WITH_AES_128_CBC_SHA"'],
    [{ webhook: { clientNames: "kube-apiserver" } }, 'webhook.clientNames: expected a list of certificate names, got "kube-apiserver"'],
    [{ webhook: { clientCAFile: 42 } }, "webhook.clientCAFile: expected a path, got 42"],
    // Names narrow the certificates of a client CA; without one no certificate is asked for, so the names would
    // silently check nothing.
    [{ webhook: { clientNames: ["kube-apiserver"] } },
      "webhook.clientNames: needs webhook.clientCAFile (the CA whose client certificates these names narrow)"]
  ] as const)("%j", (document, message) => {
    assert.strictEqual(errorOf(document).message, message)
  })
})
