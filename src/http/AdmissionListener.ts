/**
 * AdmissionListener: the node:https server the API server calls, with Node's own HTTP/1.1 parser (llhttp) and
 * its limits set for an admission webhook. @effect/platform-node runs the Effect program on it
 * (src/http/WebhookServer.ts); everything protocol-level below is Node's, configured, not reimplemented:
 *
 * - keep-alive 120 s: longer than the API server's 90 s idle-connection timeout, so it is always the API
 *   server that closes an idle socket (else it sometimes reuses one we closed, and the call fails);
 * - the request head within 10 s and the whole request within 35 s (longer than the largest webhook timeout,
 *   30 s), checked every second; a head over 16 KiB is refused with 431, a request without Host with 400,
 *   as are the smuggling shapes (Transfer-Encoding with Content-Length, conflicting lengths) and malformed
 *   chunks, by llhttp in its strict mode (`insecureHTTPParser: false`);
 * - at most `webhook.maxConnections` sockets (beyond it Node closes new ones at once), Nagle off;
 * - each answer written to the socket in one write (AdmissionResponse below).
 * TLS settings come from TlsPolicy.ts; `setSecureContext` swaps the certificate for new connections.
 */
import { Context } from "effect"
import * as http from "node:http"
import * as https from "node:https"
import type * as tls from "node:tls"

/** The listener's fixed limits (see above); a Context.Reference so that tests can shorten the timeouts. */
export interface ListenerLimits {
  readonly keepAliveTimeoutMs: number
  readonly headersTimeoutMs: number
  readonly requestTimeoutMs: number
  /** How often Node checks the two timeouts above. */
  readonly checkIntervalMs: number
  /** Node's default limit for a request head, kept explicit. */
  readonly maxHeaderBytes: number
  /** Headers Node keeps per request (the API server sends about ten); the rest of a long head are dropped. */
  readonly maxHeadersCount: number
}

export const LISTENER_LIMITS: ListenerLimits = {
  keepAliveTimeoutMs: 120_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 35_000,
  checkIntervalMs: 1_000,
  maxHeaderBytes: 16 * 1024,
  maxHeadersCount: 100
}

export const Limits = Context.Reference<ListenerLimits>("flyte-pod-webhook/http/AdmissionListener/Limits", {
  defaultValue: () => LISTENER_LIMITS
})

/**
 * AdmissionResponse: Node's ServerResponse with `strictContentLength` always off. @effect/platform-node turns it on
 * for every response, and Node then cannot send an answer as one final write: `end(body)` queues the head and
 * body, then an empty chunk, and the socket flushes both with writev. Off, the head, the body and the `finish`
 * go in one write (measured: ~2 µs of the ~105 a review cost in the server, A/B against 29ae6e7). What the strict
 * check guards against (a body longer or shorter than its Content-Length) cannot happen here: the platform sets
 * Content-Length from the very string or bytes it writes, and our answers are never streamed.
 */
class AdmissionResponse extends http.ServerResponse {}
Object.defineProperty(AdmissionResponse.prototype, "strictContentLength", { get: () => false, set: () => {} })

/** createAdmissionListener builds (does not start) the HTTPS server. */
export const createAdmissionListener = (
  options: tls.SecureContextOptions & tls.TlsOptions,
  maxConnections: number,
  limits: ListenerLimits = LISTENER_LIMITS
): https.Server => {
  const server = https.createServer({
    ...options,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    connectionsCheckingInterval: limits.checkIntervalMs,
    maxHeaderSize: limits.maxHeaderBytes,
    insecureHTTPParser: false,
    requireHostHeader: true,
    noDelay: true,
    ServerResponse: AdmissionResponse
  })
  server.maxHeadersCount = limits.maxHeadersCount
  server.maxConnections = maxConnections
  // A TLS handshake that fails (no client certificate, a scanner, a plain-HTTP request) is the client's
  // problem: never an unhandled 'error'.
  server.on("tlsClientError", () => {})
  return server
}
