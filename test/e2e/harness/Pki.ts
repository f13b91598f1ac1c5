/**
 * Pki: the throwaway certificates of the end-to-end control plane (a CA, the API server's serving certificate,
 * client certificates whose CN is the user and whose O values are the groups), and test CAs for the rotation
 * scenario. Keys come from Node's crypto, certificates from node-forge: deliberately not the webhook's own
 * issuer (src/services/certs), so the suite does not trust the code it tests to make its fixtures.
 */
import forge from "node-forge"
import * as crypto from "node:crypto"
import * as net from "node:net"

export interface Issued {
  readonly certPem: string
  readonly keyPem: string
}

const rsaKey = (): { readonly privatePem: string; readonly publicPem: string } => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs8", format: "pem" }
  })
  return { privatePem: privateKey, publicPem: publicKey }
}

const newCertificate = (publicPem: string, days: number): forge.pki.Certificate => {
  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.publicKeyFromPem(publicPem)
  cert.serialNumber = `01${crypto.randomBytes(15).toString("hex")}`
  const now = Date.now()
  cert.validity.notBefore = new Date(now - 60_000)
  cert.validity.notAfter = new Date(now + days * 86_400_000)
  return cert
}

const sign = (cert: forge.pki.Certificate, signerKeyPem: string): string => {
  cert.sign(forge.pki.privateKeyFromPem(signerKeyPem) as forge.pki.rsa.PrivateKey, forge.md.sha256.create())
  return forge.pki.certificateToPem(cert)
}

/** makeCa: a self-signed CA valid for `days`. */
export const makeCa = (commonName: string, days = 2): Issued => {
  const key = rsaKey()
  const cert = newCertificate(key.publicPem, days)
  const name = [{ name: "commonName", value: commonName }]
  cert.setSubject(name)
  cert.setIssuer(name)
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" }
  ])
  return { certPem: sign(cert, key.privatePem), keyPem: key.privatePem }
}

export interface LeafRequest {
  readonly commonName: string
  /** Subject O values: Kubernetes groups for a client certificate. */
  readonly organizations?: ReadonlyArray<string>
  /** DNS names and IPs: makes a serving certificate (serverAuth); without them a client one (clientAuth). */
  readonly names?: ReadonlyArray<string>
  readonly days?: number
}

/** issue: a leaf certificate signed by `ca`. */
export const issue = (ca: Issued, request: LeafRequest): Issued => {
  const key = rsaKey()
  const cert = newCertificate(key.publicPem, request.days ?? 2)
  cert.setSubject([
    ...(request.organizations ?? []).map((value) => ({ name: "organizationName", value })),
    { name: "commonName", value: request.commonName }
  ])
  cert.setIssuer(forge.pki.certificateFromPem(ca.certPem).subject.attributes)
  const serving = request.names !== undefined
  cert.setExtensions([
    { name: "basicConstraints", cA: false, critical: true },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    serving ? { name: "extKeyUsage", serverAuth: true } : { name: "extKeyUsage", clientAuth: true },
    ...(serving
      ? [{
        name: "subjectAltName",
        altNames: (request.names ?? []).map((value) => net.isIP(value) === 0 ? { type: 2, value } : { type: 7, ip: value })
      }]
      : [])
  ])
  return { certPem: sign(cert, ca.keyPem), keyPem: key.privatePem }
}

/** serviceAccountKeys: the RSA pair the API server signs and verifies service-account tokens with. */
export const serviceAccountKeys = (): { readonly privatePem: string; readonly publicPem: string } => rsaKey()
