/**
 * Test support for the HTTP suite: certificates, an HTTPS client that trusts them, and an in-process
 * WebhookServer built from a config document, a Mutator and a TlsMaterial.
 */
import { Effect, Layer, ManagedRuntime, References } from "effect"
import * as https from "node:https"
import * as http from "node:http"
import type * as tls from "node:tls"
import { Mutator, type MutatorShape } from "../../src/admission/Mutator.ts"
import type { MutationResult } from "../../src/admission/MutationResult.ts"
import { issueServing, makeCa, type Issued } from "../../src/cli/EmbeddedCerts.ts"
import { WebhookServer } from "../../src/http/WebhookServer.ts"
import { Readiness } from "../../src/services/Readiness.ts"
import { TlsMaterial } from "../../src/services/TlsMaterial.ts"
import { parseTlsPair } from "../../src/services/TlsPair.ts"
import { WebhookConfig } from "../../src/WebhookConfig.ts"

export const ca: Issued = makeCa("flyte-pod-webhook test CA")
export const serving: Issued = issueServing(ca, { dns: ["localhost"], ips: ["127.0.0.1"] })
export const servingPair = parseTlsPair(Buffer.from(serving.certPem), Buffer.from(serving.keyPem))

export interface Answer {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly text: string
  readonly json: () => any
  readonly fingerprint?: string
}

export interface RequestOptions {
  /** A client certificate to present. */
  readonly client?: { readonly cert: string; readonly key: string }
  readonly method?: string
  readonly headers?: http.OutgoingHttpHeaders
  readonly agent?: https.Agent | false
  readonly ca?: string
}

/** send makes one HTTPS request to 127.0.0.1 and collects the answer. */
export const send = (port: number, path: string, body?: string | Buffer, options: RequestOptions = {}): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const req = https.request({
      host: "127.0.0.1",
      port,
      path,
      method: options.method ?? "POST",
      ca: options.ca ?? ca.certPem,
      agent: options.agent ?? false,
      ...(options.client === undefined ? {} : { cert: options.client.cert, key: options.client.key }),
      headers: { "content-type": "application/json", ...options.headers }
    }, (res) => {
      const chunks: Array<Buffer> = []
      const socket = res.socket as tls.TLSSocket
      const fingerprint = socket.getPeerCertificate?.()?.fingerprint256
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8")
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text), fingerprint })
      })
      res.on("error", reject)
    })
    req.on("error", reject)
    req.end(body)
  })

/** probe makes a plain-HTTP GET on the probe port. */
export const probe = (port: number, path: string, method = "GET"): Promise<Answer> =>
  new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path, method, agent: false }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8")
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) })
      })
    }).on("error", reject)
  })

/** baseConfig: a config document for an in-process server on ephemeral ports. */
export const baseConfig = (webhook: Record<string, unknown> = {}) => ({
  webhook: { listenAddress: "127.0.0.1", listenPort: 0, probePort: 0, drainDelay: 0, shutdownTimeout: 5, ...webhook }
})

/** startServer runs a WebhookServer until `dispose`. */
export const startServer = async (options: {
  readonly config?: Record<string, unknown>
  readonly mutator?: Layer.Layer<Mutator, unknown, any>
  readonly review?: MutatorShape["review"]
  readonly tls?: Layer.Layer<TlsMaterial, unknown, any>
  /** Extra layers in the server's context (a tracer, ...). */
  readonly extra?: Layer.Layer<never> | Layer.Layer<any, any, any>
}) => {
  const mutator = options.mutator ?? Mutator.layerTest(options.review ?? (() => Effect.die("no review in test")))
  const layer = WebhookServer.layer.pipe(
    Layer.provideMerge(Layer.mergeAll(mutator, options.tls ?? TlsMaterial.layerTest(servingPair), Readiness.layer)),
    Layer.provideMerge((options.extra ?? Layer.empty) as Layer.Layer<never>),
    Layer.provide(WebhookConfig.layerTest(options.config ?? baseConfig())),
    Layer.provide(Layer.succeed(References.MinimumLogLevel, "None"))
  ) as Layer.Layer<WebhookServer, unknown, never>
  const runtime = ManagedRuntime.make(layer)
  const server = await runtime.runPromise(Effect.service(WebhookServer))
  return { ...server, dispose: () => runtime.dispose() }
}

/** result builds a MutationResult answering `uid` with the given response fields. */
export const result = (
  uid: string,
  outcome: MutationResult["outcome"],
  response: Omit<MutationResult["review"]["response"], "uid">
): MutationResult => ({
  review: { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid, ...response } },
  outcome,
  uid,
  namespace: "ns",
  pod: "pod-1",
  secrets: ["db-creds/password"],
  managers: [{ manager: "K8s", ok: outcome === "patched" }]
})

/** reviewBody is a minimal AdmissionReview with the given uid. */
export const reviewBody = (uid: string) =>
  JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid } })
