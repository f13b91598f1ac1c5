/**
 * AdmissionServer: the HTTPS listener the API server calls, a plain `node:https` server (no router, no
 * per-request Effect wrapper: see docs/serve.md for why).
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
import * as https from "node:https"
import type * as net from "node:net"
import type { TlsPair } from "../services/TlsPair.ts"
import { sendError } from "./Responses.ts"

/** ListenError: a listener could not bind (port in use, address not available). */
export class ListenError extends Data.TaggedError("ListenError")<{ readonly address: string; readonly reason: string }> {}

export const KEEP_ALIVE_TIMEOUT_MS = 120_000
export const HEADERS_TIMEOUT_MS = 10_000
export const REQUEST_TIMEOUT_MS = 35_000

/** MUTATE_PATHS: Flyte's registered path and the short one. */
export const MUTATE_PATHS: ReadonlySet<string> = new Set(["/mutate--v1-pod", "/mutate"])

/** tlsOptions: the secure-context options for a pair (also used on every swap). */
export const tlsOptions = (pair: TlsPair): https.ServerOptions => ({
  cert: pair.certPem,
  key: pair.keyPem,
  minVersion: "TLSv1.2",
  ALPNProtocols: ["http/1.1"]
})

type MutateHandler = (req: http.IncomingMessage, res: http.ServerResponse, query: string) => void

/** route dispatches by path and method; anything unexpected is answered, never thrown. */
export const route = (mutate: MutateHandler, onDefect: (cause: unknown) => void) =>
(req: http.IncomingMessage, res: http.ServerResponse): void => {
  try {
    const url = req.url ?? "/"
    const q = url.indexOf("?")
    const path = q < 0 ? url : url.slice(0, q)
    if (!MUTATE_PATHS.has(path)) {
      return sendError(res, 404, "NotFound", `no route ${path.slice(0, 200)}; use POST /mutate--v1-pod or /mutate`)
    }
    if (req.method !== "POST") {
      return sendError(res, 405, "MethodNotAllowed", `method ${req.method} not allowed; use POST`, undefined, {
        allow: "POST"
      })
    }
    mutate(req, res, q < 0 ? "" : url.slice(q + 1))
  } catch (cause) {
    onDefect(cause)
    sendError(res, 500, "InternalError", "internal error in flyte-pod-webhook; see its log")
  }
}

/** createAdmissionServer builds (does not start) the HTTPS server. */
export const createAdmissionServer = (pair: TlsPair, handler: http.RequestListener): https.Server => {
  const server = https.createServer({
    ...tlsOptions(pair),
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    headersTimeout: HEADERS_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    // Node checks the two timeouts above on this interval (default 30 s, too coarse for a 10 s limit).
    connectionsCheckingInterval: 1_000,
    noDelay: true
  }, handler)
  // A failed handshake (scanner, wrong CA, plain HTTP) concerns that client only.
  server.on("tlsClientError", () => {})
  return server
}

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
 * closeGracefully stops accepting, closes idle keep-alive sockets and waits for open requests to finish;
 * past `timeoutMs` it closes every connection.
 */
export const closeGracefully = (server: http.Server | https.Server, timeoutMs: number): Effect.Effect<boolean> =>
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
