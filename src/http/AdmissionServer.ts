/**
 * AdmissionServer: the HTTPS listener the API server calls: the strict HTTP/1.1 reader of Http1.ts over
 * `node:tls` (no router, no per-request Effect wrapper: see docs/serve.md for why).
 *
 * - HTTP/1.1 only (ALPN `http/1.1`; the API server uses HTTP/1.1 for webhooks) and TLS 1.2 or newer.
 * - Keep-alive 120 s: longer than the API server's 90 s idle-connection timeout, so it is always the API
 *   server that closes an idle socket (else it sometimes reuses one we closed, and the call fails).
 * - Headers within 10 s and the whole request within 35 s (longer than the largest webhook timeout, 30 s).
 * - `setSecureContext` swaps the certificate for new connections when TlsMaterial publishes a new pair.
 * - Routes: `POST /mutate--v1-pod` (Flyte's path) and `POST /mutate`; other paths 404, other methods 405.
 */
import { Data, Effect } from "effect"
import type * as http from "node:http"
import type * as net from "node:net"
import type * as tls from "node:tls"
import type { TlsPair } from "../services/TlsPair.ts"
import { type Exchange, Http1Server } from "./Http1.ts"
import { sendError } from "./Responses.ts"

/** ListenError: a listener could not bind (port in use, address not available). */
export class ListenError extends Data.TaggedError("ListenError")<{ readonly address: string; readonly reason: string }> {}

export const KEEP_ALIVE_TIMEOUT_MS = 120_000
export const HEADERS_TIMEOUT_MS = 10_000
export const REQUEST_TIMEOUT_MS = 35_000
/** Node's own default limit for a request head. */
export const MAX_HEADER_BYTES = 16 * 1024

/** MUTATE_PATHS: Flyte's registered path and the short one. */
export const MUTATE_PATHS: ReadonlySet<string> = new Set(["/mutate--v1-pod", "/mutate"])

/** tlsOptions: the secure-context options for a pair (also used on every swap). */
export const tlsOptions = (pair: TlsPair): tls.TlsOptions => ({
  cert: pair.certPem,
  key: pair.keyPem,
  minVersion: "TLSv1.2",
  ALPNProtocols: ["http/1.1"]
})

type MutateHandler = (exchange: Exchange, query: string) => void

/** route dispatches by path and method; anything unexpected is answered, never thrown. */
export const route = (mutate: MutateHandler) => (exchange: Exchange): void => {
  const url = exchange.url
  const q = url.indexOf("?")
  const path = q < 0 ? url : url.slice(0, q)
  if (!MUTATE_PATHS.has(path)) {
    return sendError(exchange, 404, "NotFound", `no route ${path.slice(0, 200)}; use POST /mutate--v1-pod or /mutate`)
  }
  if (exchange.method !== "POST") {
    return sendError(exchange, 405, "MethodNotAllowed", `method ${exchange.method} not allowed; use POST`, undefined, {
      allow: "POST"
    })
  }
  mutate(exchange, q < 0 ? "" : url.slice(q + 1))
}

/** createAdmissionServer builds (does not start) the HTTPS server; a throw in `handler` is a 500 and `onDefect`. */
export const createAdmissionServer = (
  pair: TlsPair,
  handler: (exchange: Exchange) => void,
  onDefect: (cause: unknown) => void
): Http1Server =>
  new Http1Server(tlsOptions(pair), {
    headersTimeoutMs: HEADERS_TIMEOUT_MS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
    maxHeaderBytes: MAX_HEADER_BYTES
  }, handler, onDefect)

/** closeAdmission: Http1Server.close as an effect (true when every open request finished in time). */
export const closeAdmission = (server: Http1Server, timeoutMs: number): Effect.Effect<boolean> =>
  Effect.promise(() => server.close(timeoutMs))

/** listen binds a server and returns the bound port (useful with port 0). */
export const listen = (server: net.Server, port: number, host: string): Effect.Effect<number, ListenError> =>
  Effect.callback<number, ListenError>((resume) => {
    const onError = (error: Error) => {
      server.off("listening", onListening)
      resume(Effect.fail(new ListenError({ address: `${host}:${port}`, reason: error.message })))
    }
    const onListening = () => {
      server.off("error", onError)
      resume(Effect.succeed((server.address() as net.AddressInfo).port))
    }
    server.once("error", onError)
    server.once("listening", onListening)
    server.listen(port, host)
  })

/**
 * closeGracefully (the probe port's `node:http` server) stops accepting, closes idle keep-alive sockets and
 * waits for open requests to finish; past `timeoutMs` it closes every connection.
 */
export const closeGracefully = (server: http.Server, timeoutMs: number): Effect.Effect<boolean> =>
  Effect.callback<boolean>((resume) => {
    const timer = setTimeout(() => {
      server.closeAllConnections()
      resume(Effect.succeed(false))
    }, timeoutMs)
    server.close(() => {
      clearTimeout(timer)
      resume(Effect.succeed(true))
    })
    server.closeIdleConnections()
  })
