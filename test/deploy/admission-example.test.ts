/**
 * deploy/examples/admission/: the files docs/security.md tells operators to give kube-apiserver so that it presents
 * a client certificate to this webhook. Checked here against the formats and the lookup of k8s.io/apiserver
 * (v0.37: pkg/admission/plugin/webhook/config, pkg/util/webhook/authentication.go); the end-to-end suite starts
 * its kube-apiserver with the same files (test/e2e/harness/AdmissionAuth.ts), which proves they load.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { configOf, deployDir, readYamlDocs } from "./Manifests.ts"

const dir = path.join(deployDir, "examples/admission")
/** The two documents, untyped like the API server's own JSON in the e2e suite (see test/e2e/harness/Api.ts). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = any
const admission = readYamlDocs(path.join(dir, "admission-configuration.yaml"))[0] as Doc
const kubeconfig = readYamlDocs(path.join(dir, "webhook-kubeconfig.yaml"))[0] as Doc
const base = configOf(fs.readFileSync(path.join(deployDir, "base/config.yaml"), "utf8"))

/**
 * userFor: the `users` entry kube-apiserver picks for a webhook at `target` (`host:port`), in the order of
 * defaultAuthenticationInfoResolver.clientConfig: exact, `*.`-suffixes, then for port 443 both again without the
 * port, then `*`, then the current context's user; undefined = no credentials.
 */
const userFor = (target: string): string | undefined => {
  const names = new Set((kubeconfig["users"] as Array<{ name: string }>).map((u) => u.name))
  const tryAll = (name: string) => {
    if (names.has(name)) return name
    const steps = name.split(".")
    for (let i = 1; i < steps.length; i++) if (names.has(`*.${steps.slice(i).join(".")}`)) return `*.${steps.slice(i).join(".")}`
    return undefined
  }
  const [host, port] = [target.slice(0, target.lastIndexOf(":")), target.slice(target.lastIndexOf(":") + 1)]
  return tryAll(target) ?? (port === "443" ? tryAll(host) : undefined) ?? (names.has("*") ? "*" : undefined) ??
    (kubeconfig["current-context"] ? "current-context" : undefined)
}

describe("deploy/examples/admission", () => {
  it("is an AdmissionConfiguration whose MutatingAdmissionWebhook entry names the kubeconfig by absolute path", () => {
    assert.strictEqual(admission["apiVersion"], "apiserver.config.k8s.io/v1")
    assert.strictEqual(admission["kind"], "AdmissionConfiguration")
    assert.lengthOf(admission["plugins"], 1)
    const plugin = admission["plugins"][0]
    assert.strictEqual(plugin.name, "MutatingAdmissionWebhook")
    assert.deepStrictEqual(Object.keys(plugin.configuration).sort(), ["apiVersion", "kind", "kubeConfigFile"])
    assert.strictEqual(plugin.configuration.apiVersion, "apiserver.config.k8s.io/v1")
    assert.strictEqual(plugin.configuration.kind, "WebhookAdmissionConfiguration")
    assert.isTrue(path.isAbsolute(plugin.configuration.kubeConfigFile), "kube-apiserver refuses a relative kubeConfigFile")
    assert.strictEqual(path.basename(plugin.configuration.kubeConfigFile), "webhook-kubeconfig.yaml")
  })

  it("gives its client certificate to the base install's webhook and to no other webhook", () => {
    assert.strictEqual(kubeconfig["kind"], "Config")
    assert.lengthOf(kubeconfig["users"], 1)
    const user = kubeconfig["users"][0]
    for (const file of [user.user["client-certificate"], user.user["client-key"]]) assert.isTrue(path.isAbsolute(file), file)
    const service = `${base.webhook.serviceName}.flyte.svc`
    assert.strictEqual(base.webhook.servicePort, 443)
    assert.strictEqual(userFor(`${service}:${base.webhook.servicePort}`), user.name, "the registration of deploy/base")
    assert.isUndefined(userFor("other-webhook.flyte.svc:443"), "another webhook in the same namespace")
    assert.isUndefined(userFor(`${base.webhook.serviceName}.other.svc:443`), "the same name in another namespace")
    assert.isUndefined(userFor("127.0.0.1:9443"), "a URL webhook")
    assert.isUndefined(kubeconfig["current-context"])
  })
})
