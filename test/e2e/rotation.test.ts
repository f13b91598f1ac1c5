/**
 * Scenario 6: certificates rotate while Pods are created in a loop, and no creation fails.
 *  a) serving certificate renewal: with the serving pair removed from the Secret (an operator forcing a
 *     reissue), `init-certs` issues a new one with the same CA and rewrites the files, which the running
 *     webhook hot-reloads;
 *  b) CA rotation, in the order the rotation policy (src/services/certs/RotationPolicy.ts) uses: the new CA
 *     joins ca.crt (old + new) and the Registrar publishes the bundle; then the serving certificate switches to
 *     one signed by the new CA; then the old CA leaves the bundle.
 * The files are written the way the kubelet updates a mounted Secret: each file replaced atomically. Beside the
 * Pod loop (whose API-server connections stay open across the change), a HandshakeProbe makes fresh TLS
 * handshakes trusting exactly the registered caBundle throughout, as any new API-server connection would:
 * swapping the certificate before its CA is published fails it.
 */
import { afterAll, assert, it } from "vitest"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import * as tls from "node:tls"
import type { Api } from "./harness/Api.ts"
import { serviceAccountIdentity } from "./harness/Identities.ts"
import { inputPod, hasEnv } from "./harness/ExpectedPods.ts"
import { HandshakeProbe } from "./harness/HandshakeProbe.ts"
import { installRbac } from "./harness/Install.ts"
import { PodLoop } from "./harness/Load.ts"
import { issue, makeCa } from "./harness/Pki.ts"
import { adminApi, beforeAllE2e, control, describeE2e, fileDir, showLogsOnFailure } from "./harness/Suite.ts"
import { sleep, until } from "./harness/Wait.ts"
import { Deployment, uniqueName } from "./harness/Webhook.ts"
import { prepareCerts } from "./harness/WebhookCli.ts"
import type { ApiJson } from "./harness/Api.ts"

/** presented: the SHA-256 fingerprint of the certificate a TLS handshake with `port` gets now. */
const presented = (port: number): Promise<string> =>
  new Promise((resolve, reject) => {
    const socket = tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false }, () => {
      const fingerprint = socket.getPeerCertificate().fingerprint256
      socket.end()
      resolve(fingerprint)
    })
    socket.once("error", reject)
  })

const fingerprint = (pem: string) => new crypto.X509Certificate(pem).fingerprint256

/** replaceFile writes through a temporary file and a rename, so a reader never sees half a file. */
const replaceFile = (file: string, text: string) => {
  fs.writeFileSync(`${file}.tmp`, text, { mode: 0o600 })
  fs.renameSync(`${file}.tmp`, file)
}

const pemBlocks = (text: string) => text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []

describeE2e("scenario 6: certificate rotation under load", () => {
  let api: Api
  let dir: string
  let certDir: string
  let namespace: string
  let deployment: Deployment | undefined
  showLogsOnFailure(() => deployment?.logs ?? [])

  beforeAllE2e(async () => {
    api = adminApi()
    dir = fileDir("rotation")
    certDir = path.join(dir, "certs")
    // init-certs in a namespace of its own, so renewing here never touches the other files' Secret.
    namespace = uniqueName("rotation")
    await installRbac(control(), namespace, { clusterScoped: false })
    const identity = serviceAccountIdentity(control(), namespace, "flyte-pod-webhook-init-certs", dir)
    await prepareCerts(control(), dir, certDir, { identity, namespace })
    deployment = await Deployment.startBeside({ name: "rotation", ctx: control(), dir, certDir })
  }, () => deployment?.logs ?? [])
  afterAll(async () => {
    await deployment?.stopAndUnregister()
    api?.close()
  })

  const configurationBundle = async () => {
    const live = await api.get(`/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${deployment!.serviceName}`)
    return pemBlocks(Buffer.from(live.webhooks[0].clientConfig.caBundle, "base64").toString("utf8")).map(fingerprint)
  }

  it("no Pod creation fails through a serving-certificate renewal and a CA rotation", async () => {
    const podNamespace = await deployment!.namespace(api, "rotation-pods")
    const replica = deployment!.replicas[0]!
    const secret = { group: "db-creds", key: "password", mountRequirement: "ENV_VAR" } as const
    const mutated = (pod: ApiJson) => hasEnv(pod, "_FSEC_DB-CREDS_PASSWORD")
    const loop = new PodLoop(api, podNamespace, () => inputPod(uniqueName("task"), [secret]), mutated)
    const oldCa = fs.readFileSync(path.join(certDir, "ca.crt"), "utf8")
    const probe = new HandshakeProbe(api, deployment!.serviceName, deployment!.proxy.port)
    try {
      await loop.waitFor(5)

      // a) the serving pair is removed from the Secret; init-certs reissues it with the same CA.
      const before = await presented(replica.port)
      assert.strictEqual(before, fingerprint(fs.readFileSync(path.join(certDir, "tls.crt"), "utf8")))
      await api.ok("PATCH", `/api/v1/namespaces/${namespace}/secrets/flyte-pod-webhook-secret`, {
        contentType: "application/json-patch+json",
        body: [{ op: "remove", path: "/data/tls.crt" }, { op: "remove", path: "/data/tls.key" }]
      })
      const identity = serviceAccountIdentity(control(), namespace, "flyte-pod-webhook-init-certs", dir)
      const renewed = await prepareCerts(control(), dir, certDir, { identity, namespace })
      assert.match(renewed, /Secret \S+ updated/)
      assert.strictEqual(fs.readFileSync(path.join(certDir, "ca.crt"), "utf8"), oldCa, "same CA")
      const renewedServing = fingerprint(fs.readFileSync(path.join(certDir, "tls.crt"), "utf8"))
      assert.notStrictEqual(renewedServing, before)
      await until("the webhook to serve the renewed certificate", async () =>
        (await presented(replica.port)) === renewedServing ? true : undefined, { timeoutMs: 30_000 })
      await loop.waitFor(5)

      // b) CA rotation: bundle old + new, then the new serving pair, then the new CA alone.
      const newCa = makeCa("e2e-rotated-ca")
      const newServing = issue(newCa, { commonName: "flyte-pod-webhook", names: ["127.0.0.1"] })
      replaceFile(path.join(certDir, "ca.crt"), oldCa.trimEnd() + "\n" + newCa.certPem)
      const both = [fingerprint(oldCa), fingerprint(newCa.certPem)]
      await until("the Registrar to publish old + new CA", async () =>
        JSON.stringify(await configurationBundle()) === JSON.stringify(both) ? true : undefined, { timeoutMs: 30_000 })
      await sleep(2_000) // the API server's informer picks the new bundle up (in a cluster: the policy's hour of grace)
      await loop.waitFor(5)

      replaceFile(path.join(certDir, "tls.key"), newServing.keyPem)
      replaceFile(path.join(certDir, "tls.crt"), newServing.certPem)
      await until("the webhook to serve the certificate of the new CA", async () =>
        (await presented(replica.port)) === fingerprint(newServing.certPem) ? true : undefined, { timeoutMs: 30_000 })
      await loop.waitFor(5)

      replaceFile(path.join(certDir, "ca.crt"), newCa.certPem)
      await until("the Registrar to drop the old CA", async () =>
        JSON.stringify(await configurationBundle()) === JSON.stringify([fingerprint(newCa.certPem)]) ? true : undefined, {
        timeoutMs: 30_000
      })
      await sleep(2_000)
      await loop.waitFor(10)
    } finally {
      await Promise.all([loop.stop(), probe.stop()])
    }
    assert.deepStrictEqual(probe.failures, [], `${probe.failures.length} of ${probe.failures.length + probe.handshakes} fresh handshakes failed`)
    assert.isAbove(probe.handshakes, 20)
    const failures = PodLoop.failures(loop.outcomes)
    assert.deepStrictEqual(failures, [], `${failures.length} of ${loop.outcomes.length} creations failed`)
    assert.isAtLeast(loop.outcomes.length, 35)
  })
})
