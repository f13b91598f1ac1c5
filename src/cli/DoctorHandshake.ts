/**
 * DoctorHandshake: one TLS handshake with the webhook at a `clientConfig.url`, trusting exactly the registered
 * caBundle (as the API server does), to read the certificate it serves and whether the caBundle verifies it.
 * Used only for URL registrations: a Service registration is reached through the API server's service proxy
 * instead (whose TLS client does not verify certificates: kube-apiserver CreateProxyTransport sets
 * InsecureSkipVerify), so there the verified call is check 5's dry-run create.
 */
import { Effect } from "effect"
import * as net from "node:net"
import * as tls from "node:tls"

export type Served =
  | {
    readonly _tag: "Served"
    /** SHA-256 fingerprint of the leaf, colon-separated hex. */
    readonly fingerprint: string
    readonly subject: string
    readonly issuer: string
    readonly notAfter: Date
    /** The caBundle verifies the chain (and the host name matches). */
    readonly authorized: boolean
    readonly authorizationError: string | undefined
  }
  | { readonly _tag: "Unreachable"; readonly message: string }

const describeName = (name: tls.Certificate | undefined) =>
  name === undefined ? "" : Object.entries(name).map(([k, v]) => `${k}=${String(v)}`).join(", ")

/** handshake: connect to `url`'s host and port, verify against `caPem`, report what was served. */
export const handshake = (url: string, caPem: string, timeoutMs: number): Effect.Effect<Served> =>
  Effect.callback<Served>((resume) => {
    let target: URL
    try {
      target = new URL(url)
    } catch {
      resume(Effect.succeed({ _tag: "Unreachable", message: `not a URL: ${url}` }))
      return
    }
    const host = target.hostname.replace(/^\[|\]$/g, "")
    const socket = tls.connect({
      host,
      port: Number(target.port || 443),
      ca: caPem,
      rejectUnauthorized: false,
      ...(net.isIP(host) === 0 ? { servername: host } : {}),
      timeout: timeoutMs
    })
    const finish = (served: Served) => {
      socket.destroy()
      resume(Effect.succeed(served))
    }
    socket.once("secureConnect", () => {
      const peer = socket.getPeerCertificate()
      // the name check, spelt out (Node reports a mismatch only as the code ERR_TLS_CERT_ALTNAME_INVALID)
      const nameError = tls.checkServerIdentity(host, peer)
      const reported = socket.authorizationError === null ? undefined : String(socket.authorizationError)
      const chainError = reported === "ERR_TLS_CERT_ALTNAME_INVALID" ? undefined : reported
      finish({
        _tag: "Served",
        fingerprint: peer.fingerprint256,
        subject: describeName(peer.subject),
        issuer: describeName(peer.issuer),
        notAfter: new Date(peer.valid_to),
        authorized: socket.authorized && nameError === undefined,
        authorizationError: chainError ?? nameError?.message
      })
    })
    socket.once("timeout", () => finish({ _tag: "Unreachable", message: `no TLS handshake within ${timeoutMs} ms` }))
    socket.once("error", (error: NodeJS.ErrnoException) =>
      finish({ _tag: "Unreachable", message: error.code === undefined ? error.message : `${error.code}: ${error.message}` }))
    return Effect.sync(() => socket.destroy())
  })
