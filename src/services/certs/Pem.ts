/**
 * Pem: reads the certificates and keys of the webhook's Secret with Node's own X.509 parser (OpenSSL), which is
 * what the TLS listener will use, so "valid" here means valid to the server too. Issuing stays in node-forge
 * (Issuer.ts); reading never depends on it. Nothing here returns or logs key material.
 */
import * as crypto from "node:crypto"

/** CertView: the facts about one certificate that rotation decides on and `init-certs` prints. */
export interface CertView {
  readonly pem: string
  readonly x509: crypto.X509Certificate
  readonly subject: string
  readonly issuer: string
  readonly serial: string
  readonly notBefore: Date
  readonly notAfter: Date
  readonly isCa: boolean
  readonly dnsNames: ReadonlyArray<string>
  readonly ipAddresses: ReadonlyArray<string>
  /** SHA-256 fingerprint, colon-separated hex (as `openssl x509 -fingerprint -sha256` prints it). */
  readonly fingerprint: string
}

const CertificateBlock = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** splitPem returns each CERTIFICATE block of a bundle, in order, normalised to end with a newline. */
export const splitPem = (text: string): ReadonlyArray<string> =>
  [...text.matchAll(CertificateBlock)].map((match) => `${match[0].trim()}\n`)

/** joinPem is the inverse of splitPem: the bundle text written to `ca.crt`. */
export const joinPem = (pems: ReadonlyArray<string>): string => pems.map((pem) => `${pem.trim()}\n`).join("")

/**
 * subjectAltNames reads Node's `subjectAltName` text ("DNS:a, DNS:b, IP Address:10.0.0.1"). Names with
 * commas or quotes are printed JSON-quoted by Node; they cannot be DNS names or IPs, so they are skipped.
 */
const subjectAltNames = (text: string | undefined) => {
  const dnsNames: Array<string> = []
  const ipAddresses: Array<string> = []
  for (const entry of (text ?? "").split(", ")) {
    if (entry.startsWith("DNS:")) dnsNames.push(entry.slice(4))
    else if (entry.startsWith("IP Address:")) ipAddresses.push(entry.slice(11))
  }
  return { dnsNames, ipAddresses }
}

/** viewCert parses one PEM certificate; a string result says why it cannot be read. */
export const viewCert = (pem: string): CertView | string => {
  let x509: crypto.X509Certificate
  try {
    x509 = new crypto.X509Certificate(pem)
  } catch (cause) {
    return `not a PEM certificate (${(cause as Error).message})`
  }
  return {
    pem,
    x509,
    subject: x509.subject.replace(/\n/g, ", "),
    issuer: x509.issuer.replace(/\n/g, ", "),
    serial: x509.serialNumber,
    notBefore: x509.validFromDate,
    notAfter: x509.validToDate,
    isCa: x509.ca,
    ...subjectAltNames(x509.subjectAltName),
    fingerprint: x509.fingerprint256
  }
}

/** viewKey parses a PEM private key (PKCS#1 or PKCS#8); undefined when absent or unreadable. */
export const viewKey = (pem: string): crypto.KeyObject | undefined => {
  if (pem.trim() === "") return undefined
  try {
    return crypto.createPrivateKey(pem)
  } catch {
    return undefined
  }
}

/** signedBy: `cert` names `ca` as issuer and its signature verifies with `ca`'s public key. */
export const signedBy = (cert: CertView, ca: CertView): boolean => {
  try {
    return cert.x509.checkIssued(ca.x509) && cert.x509.verify(ca.x509.publicKey)
  } catch {
    return false
  }
}

/** keyMatches: `key` is the private half of `cert`'s public key. */
export const keyMatches = (cert: CertView, key: crypto.KeyObject | undefined): boolean => {
  if (key === undefined) return false
  try {
    return cert.x509.checkPrivateKey(key)
  } catch {
    return false
  }
}

/** describeCert is the one-line, key-free summary `init-certs` prints and logs carry. */
export const describeCert = (cert: CertView): string => {
  const sans = [...cert.dnsNames, ...cert.ipAddresses]
  return [
    `subject="${cert.subject}"`,
    ...(cert.subject === cert.issuer ? [] : [`issuer="${cert.issuer}"`]),
    ...(sans.length === 0 ? [] : [`SANs=${sans.join(",")}`]),
    `notBefore=${cert.notBefore.toISOString()}`,
    `notAfter=${cert.notAfter.toISOString()}`,
    `sha256=${cert.fingerprint}`
  ].join(" ")
}
