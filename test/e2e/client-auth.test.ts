/**
 * Scenario 11 (issue 10, finding 1): only the API server may ask the webhook for a review. The suite's
 * kube-apiserver runs with `--admission-control-config-file` (deploy/examples/admission/, see
 * harness/AdmissionAuth.ts) and presents a client certificate when it calls one address; a deployment registered
 * at that address with `webhook.clientCAFile` (that certificate's CA) and `webhook.clientNames` (its CN):
 *  - mutates Pods created through the API server (which therefore authenticated);
 *  - refuses a direct call without a client certificate, and one with a certificate of another CA (same CN):
 *    either no TLS session or 401/403, and never an answer carrying a Global secret's value;
 *  - serves a direct call with the API server's own certificate (so the refusals are about the certificate).
 * First, without the webhook: two recording HTTPS servers registered side by side show that the API server
 * presents that certificate to the dedicated address and to no other (the suite shares one API server).
 */
import { afterAll, assert, it } from "vitest"
import * as fs from "node:fs"
import * as https from "node:https"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import type { TLSSocket } from "node:tls"
import type { Api } from "./harness/Api.ts"
import { hasEnv, inputPod } from "./harness/ExpectedPods.ts"
import { issue, makeCa } from "./harness/Pki.ts"
import { adminApi, beforeAllE2e, control, describeE2e, fileDir, showLogsOnFailure } from "./harness/Suite.ts"
import { until } from "./harness/Wait.ts"
import { Deployment, MarkerEnv, markerPod, MutatePath, SelectorLabel, uniqueName } from "./harness/Webhook.ts"
import { prepareCerts } from "./harness/WebhookCli.ts"

interface Answer {
  readonly status?: number
  readonly body?: string
  readonly error?: string
}

/** review: an AdmissionReview of a labelled Pod asking for the Global marker secret (whose value it would carry). */
const review = (namespace: string) =>
  JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "00000000-0000-0000-0000-0000000000aa",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      namespace,
      operation: "CREATE",
      userInfo: { username: "attacker" },
      object: markerPod(),
      dryRun: false
    }
  })

/** direct: POST a review straight to `port` (trusting the webhook's CA), with `client` as the client certificate. */
const direct = (port: number, ca: string, body: string, client?: { readonly cert: string; readonly key: string }): Promise<Answer> =>
  new Promise((resolve) => {
    const request = https.request({
      host: "127.0.0.1",
      port,
      path: MutatePath,
      method: "POST",
      ca,
      ...(client === undefined ? {} : { cert: client.cert, key: client.key }),
      agent: false,
      timeout: 10_000,
      headers: { "content-type": "application/json" }
    }, (response) => {
      let text = ""
      response.setEncoding("utf8")
      response.on("data", (chunk: string) => (text += chunk))
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }))
      response.on("error", (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }))
    })
    request.on("timeout", () => request.destroy(new Error("timeout")))
    request.on("error", (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message }))
    request.end(body)
  })

const markerValue = Object.values(MarkerEnv)[0] ?? "marker-value"
/** carriesSecret: the answer holds the Global secret's value (in its base64 patch). */
const carriesSecret = (answer: Answer) => {
  if (answer.body === undefined) return false
  try {
    const patch = JSON.parse(answer.body)?.response?.patch
    return typeof patch === "string" && Buffer.from(patch, "base64").toString("utf8").includes(markerValue)
  } catch {
    return false
  }
}

/** refused: no TLS session (an error) or 401/403, and nothing of the secret. */
const assertRefused = (answer: Answer, what: string) => {
  assert.isFalse(carriesSecret(answer), `${what}: the answer must not carry the Global secret`)
  if (answer.error === undefined) assert.include([401, 403], answer.status, `${what}: ${JSON.stringify(answer)}`)
}

/** A recording webhook: admits everything and notes the client certificate each call presented ("" for none). */
class Recorder {
  readonly seen: Array<string> = []
  private readonly server: https.Server
  constructor(serving: { readonly certPem: string; readonly keyPem: string }, clientCa: string) {
    this.server = https.createServer({ cert: serving.certPem, key: serving.keyPem, ca: clientCa, requestCert: true, rejectUnauthorized: false }, (req, res) => {
      const socket = req.socket as TLSSocket
      const peer = socket.getPeerCertificate()
      this.seen.push(peer.subject === undefined ? "" : `${peer.subject.CN} authorized=${socket.authorized}`)
      let body = ""
      req.on("data", (chunk: Buffer) => (body += chunk.toString()))
      req.on("end", () => {
        const uid = JSON.parse(body)?.request?.uid
        res.setHeader("content-type", "application/json")
        res.end(JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid, allowed: true } }))
      })
    })
  }
  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject)
      this.server.listen(port, "127.0.0.1", () => resolve((this.server.address() as AddressInfo).port))
    })
  }
  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

describeE2e("scenario 11a: the API server presents its client certificate to the dedicated address only", () => {
  let api: Api
  const recorders: Array<Recorder> = []
  const name = uniqueName("client-auth-recorder")
  showLogsOnFailure(() => [])

  beforeAllE2e(async () => {
    api = adminApi()
  }, () => [])
  afterAll(async () => {
    await api?.request("DELETE", `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${name}`)
    await Promise.all(recorders.map((r) => r.close()))
    api?.close()
  })

  it("calls to 127.0.0.1:<dedicated port> carry the certificate; calls to another port carry none", async () => {
    const auth = control().webhookClientAuth
    const ca = makeCa("e2e-recorder-ca")
    const serving = issue(ca, { commonName: "recorder", names: ["127.0.0.1"] })
    const clientCa = fs.readFileSync(auth.clientCaFile, "utf8")
    const dedicated = new Recorder(serving, clientCa)
    const other = new Recorder(serving, clientCa)
    recorders.push(dedicated, other)
    const ports = [await dedicated.listen(auth.port), await other.listen(0)]
    const webhook = (port: number, index: number) => ({
      name: `recorder-${index}.e2e.flyte.org`,
      clientConfig: { url: `https://127.0.0.1:${port}/record`, caBundle: Buffer.from(ca.certPem).toString("base64") },
      rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }],
      namespaceSelector: { matchLabels: { [SelectorLabel]: name } },
      admissionReviewVersions: ["v1"],
      sideEffects: "None",
      failurePolicy: "Ignore",
      timeoutSeconds: 5
    })
    await api.ok("POST", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", {
      body: { apiVersion: "admissionregistration.k8s.io/v1", kind: "MutatingWebhookConfiguration", metadata: { name }, webhooks: ports.map(webhook) }
    })
    const namespace = uniqueName("recorded")
    await api.createNamespace(namespace, { [SelectorLabel]: name })
    await until("both recorders to be called", async () => {
      await api.createPod(namespace, markerPod(), { dryRun: true })
      return dedicated.seen.length > 0 && other.seen.length > 0 ? true : undefined
    }, { timeoutMs: 60_000, intervalMs: 250 })
    assert.deepStrictEqual([...new Set(dedicated.seen)], [`${auth.clientName} authorized=true`])
    assert.deepStrictEqual([...new Set(other.seen)], [""], "no certificate for any other webhook")
  })
})

describeE2e("scenario 11: the webhook answers only the API server (client certificates)", () => {
  let api: Api
  let deployment: Deployment | undefined
  let webhookCa = ""
  showLogsOnFailure(() => deployment?.logs ?? [])

  beforeAllE2e(async () => {
    api = adminApi()
    const dir = fileDir("client-auth")
    const certDir = path.join(dir, "certs")
    await prepareCerts(control(), dir, certDir)
    webhookCa = fs.readFileSync(path.join(certDir, "ca.crt"), "utf8")
    const auth = control().webhookClientAuth
    deployment = await Deployment.startBeside({
      name: "client-auth",
      ctx: control(),
      dir,
      certDir,
      proxyPort: auth.port,
      webhook: { clientCAFile: auth.clientCaFile, clientNames: [auth.clientName] }
    })
  }, () => deployment?.logs ?? [])
  afterAll(async () => {
    await deployment?.stopAndUnregister()
    api?.close()
  })

  it("Pods created through the API server are mutated: it presented the certificate the webhook requires", async () => {
    assert.strictEqual(deployment!.url, `https://127.0.0.1:${control().webhookClientAuth.port}${MutatePath}`)
    const namespace = await deployment!.namespace(api, "client-auth")
    const created = await api.createPod(namespace, inputPod("authenticated", [{ group: "db-creds", key: "password", mountRequirement: "ENV_VAR" }]))
    assert.strictEqual(created.status, 201, JSON.stringify(created.body?.message))
    assert.isTrue(hasEnv(created.body, "_FSEC_DB-CREDS_PASSWORD"), "mutated by the webhook")
  })

  it("a direct call with the API server's certificate is served (the control for the refusals below)", async () => {
    const auth = control().webhookClientAuth
    const client = { cert: fs.readFileSync(auth.certFile, "utf8"), key: fs.readFileSync(auth.keyFile, "utf8") }
    const answer = await direct(deployment!.replicas[0]!.port, webhookCa, review("default"), client)
    assert.strictEqual(answer.status, 200, JSON.stringify(answer))
    assert.isTrue(carriesSecret(answer), "the Global secret reaches the authenticated caller")
  })

  it("a direct call without a client certificate is refused", async () => {
    for (const port of [deployment!.replicas[0]!.port, deployment!.proxy.port]) {
      assertRefused(await direct(port, webhookCa, review("default")), `no certificate, port ${port}`)
    }
  })

  it("a direct call with a certificate of another CA (same CN) is refused", async () => {
    const auth = control().webhookClientAuth
    const stranger = { cert: fs.readFileSync(auth.strangerCertFile, "utf8"), key: fs.readFileSync(auth.strangerKeyFile, "utf8") }
    assertRefused(await direct(deployment!.replicas[0]!.port, webhookCa, review("default"), stranger), "another CA")
  })
})
