/**
 * TlsPair: a serving certificate chain and its private key, checked to belong together, with the leaf's
 * expiry. Every source of serving certificates (mounted files, the Kubernetes Secret) produces one through
 * `parseTlsPair`, so a pair the TLS listener receives is always usable: a new pair that fails here is refused
 * and the listener keeps the old one.
 */
import { Data } from "effect"
import * as crypto from "node:crypto"
import * as tls from "node:tls"

/** TlsError: a certificate pair that cannot be read or used; `reason` says why, never key material. */
export class TlsError extends Data.TaggedError("TlsError")<{ readonly reason: string }> {}

export interface TlsPair {
  /** PEM of the serving certificate, optionally followed by its chain. */
  readonly certPem: Buffer
  /** PEM of the private key. */
  readonly keyPem: Buffer
  /** The leaf certificate's notAfter (the expiry gauge and logs). */
  readonly notAfter: Date
  /** SHA-256 fingerprint of the leaf, for logs. */
  readonly fingerprint: string
  /** Subject alternative names of the leaf, for logs. */
  readonly subjectAltName: string
}

const describe = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/**
 * parseTlsPair checks that the certificate parses, that the key parses and matches it, and that OpenSSL
 * accepts both as a server context (the same check the listener makes when it swaps contexts).
 */
export const parseTlsPair = (certPem: Buffer, keyPem: Buffer): TlsPair => {
  let leaf: crypto.X509Certificate
  try {
    leaf = new crypto.X509Certificate(certPem)
  } catch (cause) {
    throw new TlsError({ reason: `tls.crt is not a PEM certificate: ${describe(cause)}` })
  }
  let key: crypto.KeyObject
  try {
    key = crypto.createPrivateKey(keyPem)
  } catch (cause) {
    throw new TlsError({ reason: `tls.key is not a PEM private key: ${describe(cause)}` })
  }
  if (!leaf.checkPrivateKey(key)) {
    throw new TlsError({ reason: `tls.key does not match the certificate in tls.crt (${leaf.fingerprint256})` })
  }
  try {
    tls.createSecureContext({ cert: certPem, key: keyPem })
  } catch (cause) {
    throw new TlsError({ reason: `OpenSSL refused the pair: ${describe(cause)}` })
  }
  return {
    certPem,
    keyPem,
    notAfter: new Date(leaf.validTo),
    fingerprint: leaf.fingerprint256,
    subjectAltName: leaf.subjectAltName ?? ""
  }
}

/** samePair is true when both PEMs are byte-identical (a rewrite with the same bytes is no reload). */
export const samePair = (a: TlsPair, certPem: Buffer, keyPem: Buffer): boolean =>
  a.certPem.equals(certPem) && a.keyPem.equals(keyPem)
