/**
 * RawRequest: the two API calls that have no typed client method worth using: a POST with a JSON body through
 * the service proxy (client-node's `connectPost...ProxyWithPath` sends no body) and the API server's own
 * `/metrics` text. Authentication and the server's CA come from the kubeconfig (`applyToHTTPSOptions`, the
 * library's own way to equip a node:https request); a non-2xx answer rejects with the API `Status` as a
 * TransportFailure, so KubeClient types it like every other call.
 */
import type { KubeConfig } from "@kubernetes/client-node"
import * as https from "node:https"
import { statusFailure } from "./KubeErrors.ts"
import { TransportFailure } from "./KubeTransport.ts"

export interface RawCall {
  readonly method: "GET" | "POST"
  /** Path from the API server's root, e.g. `/metrics`. */
  readonly path: string
  readonly body?: unknown
  readonly signal: AbortSignal
}

/** rawRequest: one call; resolves with the body text of a 2xx answer. */
export const rawRequest = async (config: KubeConfig, call: RawCall): Promise<string> => {
  const server = config.getCurrentCluster()?.server
  if (server === undefined) throw new Error("no current cluster in the kubeconfig")
  const url = new URL(call.path, server.endsWith("/") ? server : `${server}/`)
  const payload = call.body === undefined ? undefined : JSON.stringify(call.body)
  const options: https.RequestOptions = {
    method: call.method,
    headers: {
      accept: "application/json, text/plain;q=0.9, */*;q=0.8",
      ...(payload === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) })
    },
    signal: call.signal
  }
  await config.applyToHTTPSOptions(options)
  return new Promise((resolve, reject) => {
    const request = https.request(url, options, (response) => {
      const chunks: Array<Buffer> = []
      response.on("data", (chunk: Buffer) => chunks.push(chunk))
      response.on("error", reject)
      response.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8")
        const status = response.statusCode ?? 0
        if (status >= 200 && status < 300) resolve(text)
        else reject(new TransportFailure(statusFailure(status, text)))
      })
    })
    request.on("error", reject)
    request.end(payload)
  })
}

/** parseJson: a proxied answer as JSON; anything else is reported with its first bytes. */
export const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    throw new TransportFailure({ status: 502, reason: "BadGateway", message: `the proxied answer is not JSON: ${text.slice(0, 200)}` })
  }
}

/**
 * warningTexts: the texts of the API server's `Warning` response headers (RFC 7234 warn-value
 * `299 - "text"`, as k8s.io/apiserver/pkg/warning writes them; several arrive joined by ", ").
 */
export const warningTexts = (header: string | undefined): ReadonlyArray<string> =>
  header === undefined
    ? []
    : [...header.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)].map((match) => (match[1] ?? "").replace(/\\(.)/g, "$1"))
