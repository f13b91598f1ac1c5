/**
 * TlsPolicy: the TLS settings of the admission listener. TLS 1.3, and TLS 1.2 only with ECDHE key exchange
 * and AEAD ciphers (Mozilla's "intermediate" profile without its finite-field DHE suites): forward secrecy
 * always, no CBC, no SHA-1 MACs, no RSA key transport. HTTP/1.1 only (ALPN), the protocol the API server uses
 * for webhooks. With a client CA the listener asks for a client certificate and refuses the TLS session
 * without one signed by it (the API server presents one when its AdmissionConfiguration says so:
 * docs/security.md).
 */
import type * as tls from "node:tls"
import type { TlsPair } from "../services/TlsPair.ts"

/** The TLS 1.2 suites allowed by default (OpenSSL names), in order of preference. */
export const INTERMEDIATE_TLS12_CIPHERS: ReadonlyArray<string> = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305"
]

/** The TLS 1.3 suites (all three are AEAD with forward secrecy); listed so `ciphers` never drops them. */
export const TLS13_CIPHERS: ReadonlyArray<string> = ["TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"]

export interface TlsPolicy {
  readonly minVersion: "TLSv1.2" | "TLSv1.3"
  /** OpenSSL names of the TLS 1.2 suites allowed; empty means INTERMEDIATE_TLS12_CIPHERS. */
  readonly tls12Ciphers: ReadonlyArray<string>
  /** PEM bundle of the CAs whose client certificates are accepted; undefined: no client certificate asked. */
  readonly clientCa: Buffer | undefined
}

export const DEFAULT_TLS_POLICY: TlsPolicy = { minVersion: "TLSv1.2", tls12Ciphers: [], clientCa: undefined }

/** tlsPolicy: the policy the config asks for (`webhook.tlsMinVersion`, `tlsCipherSuites`), with a client CA. */
export const tlsPolicy = (
  webhook: { readonly tlsMinVersion: "1.2" | "1.3"; readonly tlsCipherSuites: ReadonlyArray<string> },
  clientCa: Buffer | undefined
): TlsPolicy => ({
  minVersion: webhook.tlsMinVersion === "1.3" ? "TLSv1.3" : "TLSv1.2",
  tls12Ciphers: webhook.tlsCipherSuites,
  clientCa
})

/**
 * clientNameProblem: why a verified client certificate is not one `webhook.clientNames` allows (its CN or one of
 * its DNS SANs must be listed), or undefined when it is; an empty list allows any certificate of the client CA.
 */
export const clientNameProblem = (peer: tls.PeerCertificate | undefined, allowed: ReadonlyArray<string>): string | undefined => {
  if (allowed.length === 0) return undefined
  if (peer === undefined || Object.keys(peer).length === 0) return "no client certificate"
  const cn = typeof peer.subject?.CN === "string" ? [peer.subject.CN] : []
  const sans = (peer.subjectaltname ?? "").split(", ").filter((n) => n.startsWith("DNS:")).map((n) => n.slice(4))
  const names = [...cn, ...sans]
  if (names.some((name) => allowed.includes(name))) return undefined
  const shown = names.slice(0, 5).map((n) => JSON.stringify(n.slice(0, 100))).join(", ")
  return `the client certificate (${shown || "no name"}) is not one of webhook.clientNames`
}

/** secureContextOptions: the listener's TLS options for a pair under a policy (also used on every swap). */
export const secureContextOptions = (pair: TlsPair, policy: TlsPolicy): tls.SecureContextOptions & tls.TlsOptions => ({
  cert: pair.certPem,
  key: pair.keyPem,
  minVersion: policy.minVersion,
  ciphers: [...TLS13_CIPHERS, ...(policy.tls12Ciphers.length > 0 ? policy.tls12Ciphers : INTERMEDIATE_TLS12_CIPHERS)].join(":"),
  honorCipherOrder: true,
  ALPNProtocols: ["http/1.1"],
  ...(policy.clientCa === undefined ? {} : { ca: policy.clientCa, requestCert: true, rejectUnauthorized: true })
})
