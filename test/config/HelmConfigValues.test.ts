/**
 * The chart's values schema refuses the config mistakes the webhook's own config refuses (its `config` map and
 * the secret managers' sidecar blocks), so `helm install` stops at once instead of rendering a config the webhook
 * then refuses (or, for misspelt keys, silently ignores). Rendered with the helm the end-to-end tooling builds
 * (test/deploy/Manifests.ts finds it); the key list is checked without helm.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { WebhookSection } from "../../src/config/WebhookSchema.ts"
import { chartDir, configOf, helm, helmTemplate, helmTemplateError, type K8sObject } from "../deploy/Manifests.ts"

const schema = JSON.parse(fs.readFileSync(path.join(chartDir, "values.schema.json"), "utf8")) as {
  properties: { config: { properties: Record<string, unknown>; additionalProperties: boolean } }
}

describe("values.schema.json: config", () => {
  it("names every webhook: key the config file has, and no other (additionalProperties: false)", () => {
    assert.sameMembers(Object.keys(schema.properties.config.properties), Object.keys(WebhookSection.fields))
    assert.isFalse(schema.properties.config.additionalProperties)
  })
})

const renderedConfig = (objects: ReadonlyArray<K8sObject>) => {
  const configMap = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "flyte-pod-webhook-config")
  return configOf((configMap?.["data"] as Record<string, string>)["config.yaml"] ?? "")
}

describe.skipIf(helm === undefined)("helm template refuses each config mistake", () => {
  it.each([
    [["--set", "config.maxInFlight=abc"], "at '/config/maxInFlight': got string, want integer"],
    [["--set", "config.onInjectionErorr=admit"], "at '/config': additional properties 'onInjectionErorr' not allowed"],
    [["--set", "config.onInjectionError=maybe"], "at '/config/onInjectionError': value must be one of 'deny', 'admit'"],
    [["--set", "config.requestTimeout=45"], "at '/config/requestTimeout': maximum: got 45, want 30"],
    [["--set", "config.requestTimeout=soon"], "at '/config/requestTimeout'"],
    [["--set", "config.logLevel=verbose"], "at '/config/logLevel': value must be one of"],
    [["--set", "config.maxPatchBytes=512"], "at '/config/maxPatchBytes'"],
    [["--set", "config.tlsMinVersion=1.1"], "at '/config/tlsMinVersion': value must be one of"],
    [["--set-json", 'config.tlsCipherSuites=["TLS_RSA_WITH_AES_128_CBC_SHA"]'], "at '/config/tlsCipherSuites/0': value must be one of"],
    [["--set-json", 'config.extraSANs=["not a name"]'], "at '/config/extraSANs/0'"],
    [["--set", "config.clientCAFile=42"], "at '/config/clientCAFile': got number, want string"],
    [["--set", "secretManager.aws.sidecarImage=5"], "at '/secretManager/aws/sidecarImage': got number, want string"],
    [["--set", "secretManager.gcp.sidecarImage=My Image"], "at '/secretManager/gcp/sidecarImage': 'My Image' does not match pattern"],
    [["--set", "secretManager.aws.resources.requests.cpu=lots"], "at '/secretManager/aws/resources/requests/cpu'"],
    [["--set", "secretManager.aws.resources.request.cpu=1"], "at '/secretManager/aws/resources': additional properties 'request' not allowed"],
    [["--set", "secretManager.azure.resources.limits.memroy=1Gi"], "invalid propertyName 'memroy'"],
    [["--set", "config.listenPort=8443"], "config.listenPort is set by the chart; use its own value (see values.yaml) instead of `config`"]
  ])("%j", (args, message) => {
    assert.include(helmTemplateError(args), message)
  })

  it("renders the same keys written correctly, and the webhook reads them", () => {
    const config = renderedConfig(helmTemplate([
      "--set", "config.maxInFlight=100",
      "--set", "config.onInjectionError=admit",
      "--set", "config.requestTimeout=5s",
      "--set", "config.maxPatchBytes=2Mi",
      "--set", "config.tlsMinVersion=1.3",
      "--set-json", 'config.tlsCipherSuites=["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]',
      "--set-json", 'config.extraSANs=["webhook.example.com","10.0.0.7"]',
      "--set", "secretManager.aws.sidecarImage=registry.example.com/aws-puller:1.0",
      "--set", "secretManager.aws.resources.requests.cpu=100m",
      "--set", "secretManager.aws.resources.limits.cpu=1"
    ]))
    assert.strictEqual(config.webhook.maxInFlight, 100)
    assert.strictEqual(config.webhook.onInjectionError, "admit")
    assert.strictEqual(config.webhook.requestTimeoutSeconds, 5)
    assert.strictEqual(config.webhook.maxPatchBytes, 2 * 1024 * 1024)
    assert.strictEqual(config.webhook.tlsMinVersion, "1.3")
    assert.deepStrictEqual(config.webhook.tlsCipherSuites, ["ECDHE-RSA-AES128-GCM-SHA256"])
    assert.deepStrictEqual(config.webhook.extraSANs, ["webhook.example.com", "10.0.0.7"])
    assert.strictEqual(config.webhook.awsSecretManager.sidecarImage, "registry.example.com/aws-puller:1.0")
    assert.deepStrictEqual(config.webhook.awsSecretManager.resources, { requests: { cpu: "100m" }, limits: { cpu: "1" } })
  })
})
