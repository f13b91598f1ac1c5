/**
 * Scenario 1: `init-certs` against the real API server, as the init-certs Job's ServiceAccount with only the
 * Role from deploy/base: it creates the Secret; a second run changes nothing (same resourceVersion); two runs
 * at once both succeed and agree on one CA. Certificates are checked with Node's own X.509 parser.
 */
import { afterAll, assert, beforeAll, it } from "vitest"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import * as YAML from "yaml"
import type { Api } from "./harness/Api.ts"
import { serviceAccountIdentity } from "./harness/Identities.ts"
import { installRbac } from "./harness/Install.ts"
import { adminApi, control, describeE2e, fileDir, showLogsOnFailure } from "./harness/Suite.ts"
import { cli, describeRun, type Ran } from "./harness/Tools.ts"
import { uniqueName } from "./harness/Webhook.ts"
import type { ApiJson } from "./harness/Api.ts"

const SecretName = "flyte-pod-webhook-secret"

describeE2e("scenario 1: init-certs against the real API server", () => {
  let api: Api
  let dir: string
  showLogsOnFailure(() => [])

  beforeAll(() => {
    api = adminApi()
    dir = fileDir("init-certs")
  })
  afterAll(() => api?.close())

  /** setup: a fresh namespace with deploy/base's Role and the init-certs identity bound by it. */
  const setup = async () => {
    const namespace = uniqueName("init-certs")
    await installRbac(control(), namespace, { clusterScoped: false })
    const identity = serviceAccountIdentity(control(), namespace, "flyte-pod-webhook-init-certs", dir)
    const config = path.join(dir, `${namespace}.yaml`)
    fs.writeFileSync(config, YAML.stringify({ webhook: { certDir: path.join(dir, namespace) } }))
    const initCerts = () => cli(["init-certs", "--config", config], { KUBECONFIG: identity.kubeconfig, POD_NAMESPACE: namespace })
    return { namespace, identity, config, initCerts }
  }

  const readSecret = (namespace: string) => api.get(`/api/v1/namespaces/${namespace}/secrets/${SecretName}`)
  const pem = (secret: ApiJson, key: string) => Buffer.from(secret.data[key], "base64").toString("utf8")
  const action = (ran: Ran) => /^init-certs: Secret \S+ (created|updated|unchanged)/m.exec(ran.stdout)?.[1]
  const printedFingerprints = (ran: Ran) => [...ran.stdout.matchAll(/sha256=([0-9A-F:]+)/g)].map((m) => m[1])

  it("creates the Secret with a CA and a serving certificate for the Service, then leaves it alone", async () => {
    const { namespace, initCerts } = await setup()
    const first = await initCerts()
    assert.strictEqual(first.code, 0, describeRun("init-certs", first))
    assert.strictEqual(action(first), "created", first.stdout)
    assert.notMatch(first.stdout + first.stderr, /PRIVATE KEY/, "never prints key material")

    const secret = await readSecret(namespace)
    assert.deepStrictEqual(Object.keys(secret.data).sort(), ["ca.crt", "ca.key", "tls.crt", "tls.key"])
    const ca = new crypto.X509Certificate(pem(secret, "ca.crt"))
    const serving = new crypto.X509Certificate(pem(secret, "tls.crt"))
    assert.isTrue(ca.ca, "ca.crt is a CA")
    assert.isTrue(serving.verify(ca.publicKey), "tls.crt is signed by ca.crt")
    assert.isTrue(serving.checkPrivateKey(crypto.createPrivateKey(pem(secret, "tls.key"))), "tls.key matches tls.crt")
    for (const name of ["flyte-pod-webhook", `flyte-pod-webhook.${namespace}`, `flyte-pod-webhook.${namespace}.svc`]) {
      assert.include(serving.subjectAltName ?? "", `DNS:${name}`)
    }
    assert.includeMembers(printedFingerprints(first), [ca.fingerprint256, serving.fingerprint256])

    const second = await initCerts()
    assert.strictEqual(second.code, 0, describeRun("second init-certs", second))
    assert.strictEqual(action(second), "unchanged", second.stdout)
    const after = await readSecret(namespace)
    assert.strictEqual(after.metadata.resourceVersion, secret.metadata.resourceVersion, "a valid Secret is not rewritten")
  })

  it("two runs at once both succeed and agree on one CA", async () => {
    const { namespace, initCerts } = await setup()
    const runs = await Promise.all([initCerts(), initCerts()])
    for (const ran of runs) assert.strictEqual(ran.code, 0, describeRun("concurrent init-certs", ran))
    assert.sameMembers(runs.map(action), ["created", "unchanged"], runs.map((r) => r.stdout).join("\n"))
    const secret = await readSecret(namespace)
    const ca = new crypto.X509Certificate(pem(secret, "ca.crt"))
    for (const ran of runs) assert.include(printedFingerprints(ran), ca.fingerprint256, "both report the stored CA")
  })

  it("without the Role's grant it exits 1 and names the missing permission", async () => {
    const { namespace, config } = await setup()
    const stranger = serviceAccountIdentity(control(), namespace, "someone-else", dir)
    const ran = await cli(["init-certs", "--config", config], { KUBECONFIG: stranger.kubeconfig, POD_NAMESPACE: namespace })
    assert.strictEqual(ran.code, 1, describeRun("init-certs without RBAC", ran))
    assert.match(ran.stderr + ran.stdout, /get.*secrets|secrets.*get/i)
  })
})
