/**
 * Issuer: makes RSA keys and X.509 certificates. node-forge builds the certificate (subject, validity,
 * extensions, DER); Node's crypto generates the keys and computes the signature, because pure-JS RSA is slow
 * (measured on this 2-core box: forge signing 80-110 ms per certificate, native about 1 ms) and key generation
 * must not block the event loop of a server that renews while it serves.
 *
 * Profiles (RFC 5280; CA/Browser Forum baseline profile for the serving certificate):
 * - CA: basicConstraints cA=TRUE (critical), keyUsage keyCertSign + cRLSign (critical), subject and authority
 *   key identifiers, random positive 128-bit serial, self-signed, sha256WithRSAEncryption.
 * - Serving: basicConstraints cA=FALSE, keyUsage digitalSignature + keyEncipherment (critical), extKeyUsage
 *   serverAuth, subjectAltName DNS names and IP addresses, SKI, AKI = the CA's SKI, signed by the CA.
 */
import { Data, Effect } from "effect"
import forge from "node-forge"
import * as crypto from "node:crypto"
import * as net from "node:net"

/** IssueError: a key or certificate could not be made (e.g. a CA whose key is not RSA). */
export class IssueError extends Data.TaggedError("IssueError")<{ readonly message: string }> {}

export interface KeyPair {
  readonly privatePem: string
  readonly publicPem: string
}

/** generateKey makes an RSA key pair on libuv's thread pool. */
export const generateKey = (bits: number): Effect.Effect<KeyPair, IssueError> =>
  Effect.callback<KeyPair, IssueError>((resume) => {
    crypto.generateKeyPair(
      "rsa",
      {
        modulusLength: bits,
        publicKeyEncoding: { type: "spki", format: "pem" },
        privateKeyEncoding: { type: "pkcs8", format: "pem" }
      },
      (error, publicPem, privatePem) =>
        resume(
          error === null
            ? Effect.succeed({ privatePem, publicPem })
            : Effect.fail(new IssueError({ message: `RSA-${bits} key generation failed: ${error.message}` }))
        )
    )
  })

/** generateKeySync: the same key, blocking; for one-off tools (the embedded default, tests), never a server. */
export const generateKeySync = (bits: number): KeyPair => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", {
    modulusLength: bits,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" }
  })
  return { privatePem: privateKey, publicPem: publicKey }
}

/** randomSerial: 128 random bits as a positive DER INTEGER (a 00 byte is prepended when the top bit is set). */
export const randomSerial = (): string => {
  const bytes = crypto.randomBytes(16)
  if (bytes[0] === 0) bytes[0] = 1 // keep the encoding minimal (no leading zero byte before a small one)
  const hex = bytes.toString("hex")
  return (bytes[0] ?? 0) >= 0x80 ? `00${hex}` : hex
}

/** getTBSCertificate exists in node-forge's x509.js but is missing from @types/node-forge. */
const tbsOf = (cert: forge.pki.Certificate): forge.asn1.Asn1 =>
  (forge.pki as unknown as { getTBSCertificate: (c: forge.pki.Certificate) => forge.asn1.Asn1 }).getTBSCertificate(
    cert
  )

/** signWith signs the certificate's TBS bytes natively, exactly as forge's `cert.sign(key, sha256)` would. */
const signWith = (cert: forge.pki.Certificate, signerPrivatePem: string): string => {
  cert.signatureOid = cert.siginfo.algorithmOid = forge.pki.oids["sha256WithRSAEncryption"] as string
  cert.tbsCertificate = tbsOf(cert)
  const tbs = Buffer.from(forge.asn1.toDer(cert.tbsCertificate).getBytes(), "binary")
  cert.signature = crypto.sign("sha256", tbs, signerPrivatePem).toString("binary")
  return forge.pki.certificateToPem(cert)
}

/**
 * subjectName: a name with one commonName encoded as UTF8String (RFC 5280 4.1.2.4: UTF8String for new
 * certificates). forge's default is PrintableString, which cannot hold the CA's `@` (`<service>-ca@<time>`):
 * Go's crypto/x509, and so the API server loading the caBundle, rejects such a certificate with
 * "x509: invalid RDNSequence: invalid attribute value: invalid PrintableString" (found by the e2e suite).
 */
const subjectName = (commonName: string): Array<forge.pki.CertificateField> => [
  { name: "commonName", value: commonName, valueTagClass: forge.asn1.Type.UTF8 as unknown as forge.asn1.Class }
]

const baseCertificate = (publicPem: string, notBefore: Date, notAfter: Date): forge.pki.Certificate => {
  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem)
  cert.serialNumber = randomSerial()
  cert.validity.notBefore = notBefore
  cert.validity.notAfter = notAfter
  return cert
}

export interface CaRequest {
  readonly key: KeyPair
  readonly commonName: string
  readonly notBefore: Date
  readonly notAfter: Date
}

/** issueCa makes a self-signed CA certificate (PEM). */
export const issueCa = (request: CaRequest): Effect.Effect<string, IssueError> =>
  Effect.try({
    try: () => {
      const cert = baseCertificate(request.key.publicPem, request.notBefore, request.notAfter)
      const name = subjectName(request.commonName)
      cert.setSubject(name)
      cert.setIssuer(name)
      cert.setExtensions([
        { name: "basicConstraints", cA: true, critical: true },
        { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
        { name: "subjectKeyIdentifier" },
        { name: "authorityKeyIdentifier", keyIdentifier: true }
      ])
      return signWith(cert, request.key.privatePem)
    },
    catch: (cause) => new IssueError({ message: `cannot issue the CA certificate: ${(cause as Error).message}` })
  })

export interface ServingRequest {
  readonly key: KeyPair
  readonly caCertPem: string
  readonly caKeyPem: string
  readonly commonName: string
  /** DNS names and IP addresses, in order; IPs (v4 or v6) become IP SANs. */
  readonly names: ReadonlyArray<string>
  readonly notBefore: Date
  readonly notAfter: Date
}

/** caKeyIdentifier: the CA's own SKI extension (bytes), or one computed from its key when it has none. */
const caKeyIdentifier = (ca: forge.pki.Certificate): string => {
  const ski = ca.getExtension("subjectKeyIdentifier") as { subjectKeyIdentifier?: string } | undefined
  return ski?.subjectKeyIdentifier === undefined
    ? ca.generateSubjectKeyIdentifier().getBytes()
    : forge.util.hexToBytes(ski.subjectKeyIdentifier)
}

/** issueServing makes the serving certificate (PEM) signed by the given CA. */
export const issueServing = (request: ServingRequest): Effect.Effect<string, IssueError> =>
  Effect.try({
    try: () => {
      const ca = forge.pki.certificateFromPem(request.caCertPem)
      const cert = baseCertificate(request.key.publicPem, request.notBefore, request.notAfter)
      cert.setSubject(subjectName(request.commonName))
      cert.setIssuer(ca.subject.attributes)
      cert.setExtensions([
        { name: "basicConstraints", cA: false },
        { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
        { name: "extKeyUsage", serverAuth: true },
        {
          name: "subjectAltName",
          altNames: request.names.map((value) => (net.isIP(value) === 0 ? { type: 2, value } : { type: 7, ip: value }))
        },
        { name: "subjectKeyIdentifier" },
        { name: "authorityKeyIdentifier", keyIdentifier: caKeyIdentifier(ca) }
      ])
      return signWith(cert, request.caKeyPem)
    },
    catch: (cause) => new IssueError({ message: `cannot issue the serving certificate: ${(cause as Error).message}` })
  })
