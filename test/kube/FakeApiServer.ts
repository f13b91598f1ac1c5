/**
 * FakeApiServer: the in-memory API server (src/kube/FakeTransport) behind real HTTPS on 127.0.0.1, speaking the
 * REST paths and Status bodies of the Kubernetes API for the few calls we make. Lets tests drive the live
 * transport (@kubernetes/client-node, kubeconfig, TLS, content types, aborts) and the CLI commands in child
 * processes. Records every request; can leave requests unanswered (timeouts) or drop the connection.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as https from "node:https"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { type FakeControl, makeFakeTransport } from "../../src/kube/FakeTransport.ts"
import { type KubeTransport, TransportFailure } from "../../src/kube/KubeTransport.ts"
import { generateKey, issueCa, issueServing } from "../../src/services/certs/Issuer.ts"

export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly query: Readonly<Record<string, string>>
  readonly contentType: string | undefined
  readonly authorization: string | undefined
}

export interface FakeApiServer {
  readonly url: string
  readonly caPem: string
  readonly control: FakeControl
  readonly requests: Array<RecordedRequest>
  /** hangNext: leave the next `n` requests unanswered. */
  readonly hangNext: (n: number) => void
  /** writeKubeconfig: a kubeconfig file for this server (token auth), in a fresh temp folder. */
  readonly writeKubeconfig: () => string
  readonly close: () => Promise<void>
}

const serverCertificate = Effect.gen(function*() {
  const now = Date.now()
  const caKey = yield* generateKey(2048)
  const caPem = yield* issueCa({ key: caKey, commonName: "fake-apiserver-ca", notBefore: new Date(now - 60_000), notAfter: new Date(now + 86_400_000) })
  const key = yield* generateKey(2048)
  const cert = yield* issueServing({
    key,
    caCertPem: caPem,
    caKeyPem: caKey.privatePem,
    commonName: "127.0.0.1",
    names: ["127.0.0.1", "localhost"],
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + 86_400_000)
  })
  return { caPem, cert, key: key.privatePem }
})

const readBody = (req: import("node:http").IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    let text = ""
    req.setEncoding("utf8")
    req.on("data", (chunk: string) => (text += chunk))
    req.on("end", () => resolve(text))
    req.on("error", reject)
  })

const SecretPath = /^\/api\/v1\/namespaces\/([^/]+)\/secrets(?:\/([^/]+))?$/
const WebhookPath = /^\/apis\/admissionregistration\.k8s\.io\/v1\/mutatingwebhookconfigurations\/([^/]+)$/

const dispatch = (transport: KubeTransport, method: string, url: URL, contentType: string, body: string): Promise<unknown> => {
  const signal = new AbortController().signal
  const secret = SecretPath.exec(url.pathname)
  const json = () => JSON.parse(body)
  if (secret !== null) {
    const [, namespace = "", name] = secret
    if (method === "GET" && name !== undefined) return transport.getSecret(namespace, name, signal)
    if (method === "POST" && name === undefined) return transport.createSecret(namespace, json(), signal)
    if (method === "PUT" && name !== undefined) return transport.replaceSecret(namespace, json(), signal)
  }
  const webhook = WebhookPath.exec(url.pathname)
  if (webhook !== null) {
    const name = webhook[1] ?? ""
    const manager = url.searchParams.get("fieldManager") ?? ""
    if (method === "GET") return transport.getWebhookConfiguration(name, signal)
    if (method === "DELETE") return transport.deleteWebhookConfiguration(name, signal).then(() => ({ kind: "Status", status: "Success" }))
    if (method === "PATCH" && contentType.startsWith("application/apply-patch")) {
      return transport.applyWebhookConfiguration(json(), manager, url.searchParams.get("force") === "true", signal)
    }
    if (method === "PATCH" && contentType.startsWith("application/json-patch+json")) {
      return transport.patchWebhookConfiguration(name, json(), manager, signal)
    }
  }
  return dispatchDoctor(transport, method, url, json) ??
    Promise.reject(new TransportFailure({ status: 404, reason: "NotFound", message: `no route ${method} ${url.pathname}` }))
}

/** Answered: a body with its own status, content type and headers (dry-run refusals, warnings, /metrics). */
class Answered {
  readonly status: number
  readonly body: string
  readonly headers: Record<string, string>
  constructor(status: number, body: string, headers: Record<string, string>) {
    this.status = status
    this.body = body
    this.headers = headers
  }
}

const ServicePath = /^\/api\/v1\/namespaces\/([^/]+)\/services\/([^/]+)$/
const SlicesPath = /^\/apis\/discovery\.k8s\.io\/v1\/namespaces\/([^/]+)\/endpointslices$/
const NamespacePath = /^\/api\/v1\/namespaces\/([^/]+)$/
const ReviewPath = /^\/apis\/authorization\.k8s\.io\/v1\/(self)?subjectaccessreviews$/
const PodsPath = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/
const ProxyPath = /^\/api\/v1\/namespaces\/([^/]+)\/services\/https:([^:/]+):([^/]+)\/proxy(\/.*)$/

/** dispatchDoctor: the read-only calls `doctor` makes (src/kube/FakeCluster.ts behind them). */
const dispatchDoctor = (transport: KubeTransport, method: string, url: URL, json: () => any): Promise<unknown> | undefined => {
  const signal = new AbortController().signal
  let m: RegExpExecArray | null
  if (method === "GET" && url.pathname === "/metrics") {
    return transport.getApiServerMetrics(signal).then((text) => new Answered(200, text, { "content-type": "text/plain; version=0.0.4" }))
  }
  if (method === "POST" && (m = ProxyPath.exec(url.pathname)) !== null) {
    return transport.proxyServicePost(m[1]!, m[2]!, m[3]!, m[4]!, json(), signal)
  }
  if (method === "GET" && (m = ServicePath.exec(url.pathname)) !== null) return transport.getService(m[1]!, m[2]!, signal)
  if (method === "GET" && (m = SlicesPath.exec(url.pathname)) !== null) {
    const service = (url.searchParams.get("labelSelector") ?? "").replace(/^kubernetes\.io\/service-name=/, "")
    return transport.listEndpointSlices(m[1]!, service, signal).then((items) => ({ kind: "EndpointSliceList", apiVersion: "discovery.k8s.io/v1", metadata: {}, items }))
  }
  if (method === "GET" && (m = NamespacePath.exec(url.pathname)) !== null) return transport.getNamespace(m[1]!, signal)
  if (method === "POST" && (m = ReviewPath.exec(url.pathname)) !== null) {
    const spec = json().spec
    return transport.reviewAccess({ ...(m[1] === undefined ? { user: spec.user, groups: spec.groups } : {}), ...spec.resourceAttributes }, signal)
      .then((status) => ({ kind: m![1] === undefined ? "SubjectAccessReview" : "SelfSubjectAccessReview", apiVersion: "authorization.k8s.io/v1", spec, status }))
  }
  if (method === "POST" && (m = PodsPath.exec(url.pathname)) !== null && url.searchParams.get("dryRun") === "All") {
    return transport.createPodDryRun(m[1]!, json(), signal).then((answer) => {
      if (answer._tag === "Refused") {
        throw new TransportFailure({ status: answer.status, reason: answer.reason, message: answer.message })
      }
      const warnings = answer.warnings.map((w) => `299 - ${JSON.stringify(w)}`).join(", ")
      return new Answered(201, JSON.stringify(answer.pod), { "content-type": "application/json", ...(warnings === "" ? {} : { warning: warnings }) })
    })
  }
  return undefined
}

export const startFakeApiServer = async (): Promise<FakeApiServer> => {
  const tls = await Effect.runPromise(serverCertificate)
  const { control, transport } = makeFakeTransport()
  const requests: Array<RecordedRequest> = []
  let hang = 0
  const server = https.createServer({ cert: tls.cert, key: tls.key }, async (req, res) => {
    const url = new URL(req.url ?? "/", "https://127.0.0.1")
    const contentType = req.headers["content-type"]
    requests.push({
      method: req.method ?? "",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      contentType,
      authorization: req.headers.authorization
    })
    const body = await readBody(req)
    if (hang > 0) {
      hang--
      return
    }
    try {
      const result = await dispatch(transport, req.method ?? "", url, contentType ?? "", body)
      if (result instanceof Answered) {
        res.writeHead(result.status, result.headers)
        return void res.end(result.body)
      }
      res.writeHead(req.method === "POST" ? 201 : 200, { "content-type": "application/json" })
      res.end(JSON.stringify(result))
    } catch (error) {
      if (!(error instanceof TransportFailure)) throw error
      const { message, reason, status } = error.failure
      if (status === undefined) return void req.socket.destroy()
      res.writeHead(status, { "content-type": "application/json" })
      res.end(JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", message, reason, code: status }))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`
  const dirs: Array<string> = []
  return {
    url,
    caPem: tls.caPem,
    control,
    requests,
    hangNext: (n) => void (hang += n),
    writeKubeconfig: () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-kube-"))
      dirs.push(dir)
      const file = path.join(dir, "kubeconfig")
      fs.writeFileSync(file, kubeconfigText(url, tls.caPem))
      return file
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true })
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

export const kubeconfigText = (server: string, caPem: string) =>
  JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "fake", cluster: { server, "certificate-authority-data": Buffer.from(caPem).toString("base64") } }],
    users: [{ name: "tester", user: { token: "fake-token" } }],
    contexts: [{ name: "fake", context: { cluster: "fake", user: "tester" } }],
    "current-context": "fake"
  })
