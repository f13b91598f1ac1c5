/**
 * WebhookConfig: Flyte's YAML (docs/flyte-compat.md) plus our keys; every bad value is an error naming the key and
 * what was expected.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll } from "vitest"
import * as YAML from "yaml"
import { SecretLookup } from "../../src/services/SecretLookup.ts"
import { ConfigError, parseSettings, WebhookConfig } from "../../src/WebhookConfig.ts"

const parse = (document: unknown, env: Record<string, string> = {}) => parseSettings(document, env, "<test>")

/** errorOf: the ConfigError parseSettings throws (fails the test when it does not throw one). */
const errorOf = (document: unknown): ConfigError => {
  try {
    parse(document)
  } catch (e) {
    if (e instanceof ConfigError) return e
    throw e
  }
  throw new Error("expected a ConfigError")
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-config-"))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))
const file = (name: string, text: string) => {
  const p = path.join(dir, name)
  fs.writeFileSync(p, text)
  return p
}

describe("defaults", () => {
  it("every Flyte key and ours has its documented default", () => {
    const c = parse(undefined)
    const w = c.webhook
    assert.strictEqual(w.certDir, "/etc/webhook/certs")
    assert.strictEqual(w.localCert, false)
    assert.strictEqual(w.listenPort, 9443)
    assert.strictEqual(w.serviceName, "flyte-pod-webhook")
    assert.strictEqual(w.servicePort, 443)
    assert.strictEqual(w.secretName, "flyte-pod-webhook-secret")
    assert.deepStrictEqual(w.secretManagerTypes, ["K8s"])
    const resources = { requests: { cpu: "200m", memory: "500Mi" }, limits: { cpu: "200m", memory: "500Mi" } }
    assert.deepStrictEqual(w.awsSecretManager, { sidecarImage: "docker.io/amazon/aws-secrets-manager-secret-sidecar:v0.1.4", resources })
    assert.deepStrictEqual(w.gcpSecretManager, { sidecarImage: "gcr.io/google.com/cloudsdktool/cloud-sdk:alpine", resources })
    assert.deepStrictEqual(w.azureSecretManager, { sidecarImage: "mcr.microsoft.com/azure-cli:cbl-mariner2.0", resources })
    assert.deepStrictEqual(w.vaultSecretManager, { role: "flyte", kvVersion: "2", annotations: {} })
    assert.strictEqual(w.disableCreateMutatingWebhookConfig, false)
    assert.isUndefined(w.namespaceSelector)
    assert.strictEqual(w.onInjectionError, "deny")
    assert.strictEqual(w.globalSecrets, true)
    assert.deepStrictEqual(c.secrets, { secretsPrefix: "/etc/secrets", envPrefix: "FLYTE_SECRET_" })
    assert.strictEqual(c.podNamespace, "flyte")
    assert.strictEqual(c.podName, "")
    assert.strictEqual(c.globalEnv.size, 0)
  })

  it("an empty file and a file with only comments give the defaults", () => {
    assert.deepStrictEqual(parse(YAML.parse("")).webhook, parse(undefined).webhook)
    assert.deepStrictEqual(parse(YAML.parse("# nothing here\n")).webhook, parse(undefined).webhook)
  })

  it("POD_NAMESPACE, POD_NAME and the Global provider's env vars (only those with the prefix, redacted)", () => {
    const c = parse({}, { POD_NAMESPACE: "webhooks", POD_NAME: "fpw-0", FLYTE_SECRET_G_K: "v", HOME: "/root" })
    assert.strictEqual(c.podNamespace, "webhooks")
    assert.strictEqual(c.podName, "fpw-0")
    assert.deepStrictEqual([...c.globalEnv.keys()], ["FLYTE_SECRET_G_K"])
    assert.strictEqual(Redacted.value(c.globalEnv.get("FLYTE_SECRET_G_K")!), "v")
    assert.notInclude(String(c.globalEnv.get("FLYTE_SECRET_G_K")), "v")
  })
})

// A propeller config as Flyte's Helm chart renders it: the webhook reads two sections and ignores the rest.
const flyteConfig = `
propeller:
  rawoutput-prefix: s3://my-s3-bucket/
  workers: 4
logger:
  level: 4
webhook:
  certDir: /etc/webhook/certs
  serviceName: flyte-pod-webhook
  secretName: flyte-pod-webhook
  listenPort: "9443"
  secretManagerType: Vault
  vaultSecretManager:
    role: flyte-role
    kvVersion: "1"
    annotations:
      vault.hashicorp.com/agent-limits-cpu: 250m
      vault.hashicorp.com/agent-pre-populate-only: false
  awsSecretManager:
    sidecarImage: example.com/aws-sidecar:1
    resources:
      limits: { cpu: 100m, memory: 100Mi }
  namespaceSelector:
    matchLabels: { flyte: enabled }
secrets:
  secrets-prefix: /etc/flyte-secrets
  env-prefix: MY_SECRET_
storage:
  type: minio
`

describe("Flyte's YAML", () => {
  it("a whole propeller config: the webhook and secrets sections are read, the rest ignored", () => {
    const c = parse(YAML.parse(flyteConfig))
    assert.strictEqual(c.webhook.secretName, "flyte-pod-webhook")
    assert.strictEqual(c.webhook.listenPort, 9443)
    assert.deepStrictEqual(c.webhook.secretManagerTypes, ["Vault"])
    assert.deepStrictEqual(c.webhook.vaultSecretManager, {
      role: "flyte-role",
      kvVersion: "1",
      annotations: { "vault.hashicorp.com/agent-limits-cpu": "250m", "vault.hashicorp.com/agent-pre-populate-only": "false" }
    })
    assert.deepStrictEqual(c.webhook.awsSecretManager, {
      sidecarImage: "example.com/aws-sidecar:1",
      resources: { limits: { cpu: "100m", memory: "100Mi" } }
    })
    assert.deepStrictEqual(c.webhook.namespaceSelector, { matchLabels: { flyte: "enabled" } })
    assert.deepStrictEqual(c.secrets, { secretsPrefix: "/etc/flyte-secrets", envPrefix: "MY_SECRET_" })
  })

  it.each([
    ["K8s", ["K8s"]],
    ["AWS", ["AWS"]],
    ["Vault", ["Vault"]],
    [0, ["Global"]],
    [1, ["K8s"]],
    [2, ["AWS"]],
    [3, ["GCP"]],
    [4, ["Vault"]]
  ] as const)("secretManagerType %j", (value, expected) => {
    assert.deepStrictEqual(parse({ webhook: { secretManagerType: value } }).webhook.secretManagerTypes, expected)
  })

  it("ours: secretManagerTypes, an ordered list, wins over secretManagerType", () => {
    const c = parse({ webhook: { secretManagerType: "K8s", secretManagerTypes: ["Vault", "Azure", "K8s"] } })
    assert.deepStrictEqual(c.webhook.secretManagerTypes, ["Vault", "Azure", "K8s"])
  })

  it.each([["1", "1"], [1, "1"], ["2", "2"], [2, "2"]] as const)("kvVersion %j", (value, expected) => {
    assert.strictEqual(parse({ webhook: { vaultSecretManager: { kvVersion: value } } }).webhook.vaultSecretManager.kvVersion, expected)
  })

  it("unknown sections and a null section are ignored", () => {
    const c = parse({ propeller: { workers: "x" }, webhook: null, secrets: null, tasks: [1, 2] })
    assert.deepStrictEqual(c.webhook, parse(undefined).webhook)
  })

  it("read from a file through WebhookConfig.load, with the source recorded", () =>
    Effect.runPromise(Effect.gen(function*() {
      const p = file("flyte.yaml", flyteConfig)
      const c = yield* WebhookConfig.load(p)
      assert.strictEqual(c.source, p)
      assert.deepStrictEqual(c.webhook.secretManagerTypes, ["Vault"])
      assert.strictEqual((yield* WebhookConfig.load(undefined)).source, "<defaults>")
    })))
})

describe("bad values: an error naming the key and what was expected", () => {
  it.each([
    [{ webhook: { listenPort: "abc" } }, "webhook.listenPort", 'webhook.listenPort: expected an integer from 0 to 65535, got "abc"'],
    [{ webhook: { listenPort: 70000 } }, "webhook.listenPort", "webhook.listenPort: expected an integer from 0 to 65535, got 70000"],
    [{ webhook: { vaultSecretManager: { kvVersion: 3 } } }, "webhook.vaultSecretManager.kvVersion",
      "webhook.vaultSecretManager.kvVersion: expected one of 1, 2, got 3"],
    [{ webhook: { onInjectionError: "maybe" } }, "webhook.onInjectionError", 'webhook.onInjectionError: expected one of deny, admit, got "maybe"'],
    [{ webhook: { localCert: "yes" } }, "webhook.localCert", 'webhook.localCert: expected true or false, got "yes"'],
    [{ webhook: { vaultSecretManager: { annotations: { a: { b: 1 } } } } }, "webhook.vaultSecretManager.annotations.a",
      'webhook.vaultSecretManager.annotations.a: expected a string, got {"b":1}'],
    [{ webhook: { awsSecretManager: "image" } }, "webhook.awsSecretManager", 'webhook.awsSecretManager: expected a mapping, got "image"'],
    [{ webhook: { secretManagerTypes: "Vault" } }, "webhook.secretManagerTypes", 'webhook.secretManagerTypes: expected a list of secret manager names, got "Vault"'],
    [{ webhook: "on" }, "webhook", 'webhook: expected a mapping, got "on"'],
    [{ secrets: { "env-prefix": ["A"] } }, "secrets.env-prefix", 'secrets.env-prefix: expected a non-empty env var prefix, got ["A"]']
  ] as const)("%j", (document, key, message) => {
    const e = errorOf(document)
    assert.strictEqual(e.key, key)
    assert.strictEqual(e.message, message)
  })

  it.each([["- a\n- b\n"], ["just a string\n"], ["42\n"]])("a top level that is not a mapping: %j", (text) => {
    const e = errorOf(YAML.parse(text))
    assert.strictEqual(e.key, "<root>")
    assert.strictEqual(e.message, "<test>: expected a YAML mapping at the top level")
  })

  it.effect("secretManagerType Bogus: SecretLookup.layer fails naming the key and the choices", () =>
    Effect.gen(function*() {
      const e = yield* SecretLookup.use((s) => Effect.succeed(s)).pipe(
        Effect.provide(SecretLookup.layer.pipe(Layer.provide(WebhookConfig.layerTest({ webhook: { secretManagerType: "Bogus" } })))),
        Effect.flip
      )
      assert.strictEqual(e._tag, "ConfigError")
      assert.strictEqual(e.key, "webhook.secretManagerType")
      assert.strictEqual(e.message, 'webhook.secretManagerType: expected one of Global, K8s, AWS, GCP, Vault, Azure, got "Bogus"')
    }))

  it.effect("an unknown entry of secretManagerTypes names that key", () =>
    Effect.gen(function*() {
      const e = yield* SecretLookup.use((s) => Effect.succeed(s)).pipe(
        Effect.provide(SecretLookup.layer.pipe(Layer.provide(WebhookConfig.layerTest({ webhook: { secretManagerTypes: ["Vault", "Confidant"] } })))),
        Effect.flip
      )
      assert.strictEqual(e.key, "webhook.secretManagerTypes")
      assert.include(e.message, 'got "Confidant"')
    }))

  it.effect("only Global named while webhook.globalSecrets is false: no manager would be left", () =>
    Effect.gen(function*() {
      const e = yield* SecretLookup.use((s) => Effect.succeed(s)).pipe(
        Effect.provide(SecretLookup.layer.pipe(Layer.provide(WebhookConfig.layerTest({ webhook: { secretManagerType: "Global", globalSecrets: false } })))),
        Effect.flip
      )
      assert.strictEqual(e.key, "webhook.secretManagerType")
      assert.strictEqual(e.message, "webhook.secretManagerType: names only Global, but webhook.globalSecrets is false: no manager is left")
    }))

  it.effect("a missing file and invalid YAML: ConfigError saying which file and why", () =>
    Effect.gen(function*() {
      const missing = yield* WebhookConfig.load(path.join(dir, "nope.yaml")).pipe(Effect.flip)
      assert.strictEqual(missing.key, "<file>")
      assert.match(missing.message, /^cannot read config file .*nope\.yaml: ENOENT/)
      const broken = yield* WebhookConfig.load(file("broken.yaml", "webhook: [unclosed\n")).pipe(Effect.flip)
      assert.strictEqual(broken.key, "<file>")
      assert.match(broken.message, /^config file .*broken\.yaml is not valid YAML: /)
    }))
})
