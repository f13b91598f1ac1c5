/**
 * EmbeddedCerts: a throwaway CA and a serving certificate for `localhost` / `127.0.0.1`, for `serve --embedded`
 * (`npm start`) and the HTTP tests. Not for clusters: the CertService issues those (same library, node-forge;
 * the two should be unified there). Keys come from `node:crypto` (fast, native); node-forge builds and signs
 * the X.509 certificates, which `node:crypto` cannot.
 */
import { Data, Effect } from "effect"
import forge from "node-forge"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"

export class EmbeddedCertError extends Data.TaggedError("EmbeddedCertError")<{ readonly reason: string }> {}

export interface Issued {
  readonly certPem: string
  readonly keyPem: string
}

const newKeys = () => {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" }
  })
  return { keyPem: privateKey, privateKey: forge.pki.privateKeyFromPem(privateKey), publicKey: forge.pki.publicKeyFromPem(publicKey) }
}

const baseCert = (publicKey: forge.pki.PublicKey, days: number) => {
  const cert = forge.pki.createCertificate()
  cert.publicKey = publicKey
  cert.serialNumber = `01${crypto.randomBytes(15).toString("hex")}` // positive, 16 bytes
  cert.validity.notBefore = new Date(Date.now() - 60_000)
  cert.validity.notAfter = new Date(Date.now() + days * 86_400_000)
  return cert
}

/** makeCa creates a self-signed CA valid for `days`. */
export const makeCa = (commonName = "flyte-pod-webhook embedded CA", days = 365): Issued => {
  const keys = newKeys()
  const cert = baseCert(keys.publicKey, days)
  const subject = [{ name: "commonName", value: commonName }]
  cert.setSubject(subject)
  cert.setIssuer(subject)
  cert.setExtensions([
    { name: "basicConstraints", cA: true, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" }
  ])
  cert.sign(keys.privateKey, forge.md.sha256.create())
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem }
}

/** issueServing signs a serving certificate for the given DNS names and IPs with `ca`. */
export const issueServing = (
  ca: Issued,
  names: { readonly dns: ReadonlyArray<string>; readonly ips: ReadonlyArray<string> },
  days = 90
): Issued => {
  const keys = newKeys()
  const caCert = forge.pki.certificateFromPem(ca.certPem)
  const cert = baseCert(keys.publicKey, days)
  cert.setSubject([{ name: "commonName", value: names.dns[0] ?? names.ips[0] ?? "localhost" }])
  cert.setIssuer(caCert.subject.attributes)
  cert.setExtensions([
    { name: "basicConstraints", cA: false },
    { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
    { name: "extKeyUsage", serverAuth: true },
    {
      name: "subjectAltName",
      altNames: [...names.dns.map((value) => ({ type: 2, value })), ...names.ips.map((ip) => ({ type: 7, ip }))]
    }
  ])
  cert.sign(forge.pki.privateKeyFromPem(ca.keyPem), forge.md.sha256.create())
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.keyPem }
}

const LOCAL_NAMES = { dns: ["localhost"], ips: ["127.0.0.1"] }

/** stillUsable: the files exist, the leaf is valid for another day and covers 127.0.0.1. */
const stillUsable = (dir: string): boolean => {
  try {
    const leaf = new crypto.X509Certificate(fs.readFileSync(path.join(dir, "tls.crt")))
    const ca = new crypto.X509Certificate(fs.readFileSync(path.join(dir, "ca.crt")))
    const key = crypto.createPrivateKey(fs.readFileSync(path.join(dir, "tls.key")))
    return leaf.checkPrivateKey(key) && leaf.verify(ca.publicKey) && leaf.checkIP("127.0.0.1") !== undefined &&
      new Date(leaf.validTo).getTime() > Date.now() + 86_400_000
  } catch {
    return false
  }
}

/** ensureEmbeddedCerts writes `ca.crt`, `tls.crt`, `tls.key` into `dir` unless usable ones are there. */
export const ensureEmbeddedCerts = (dir: string): Effect.Effect<{ readonly caFile: string; readonly created: boolean }, EmbeddedCertError> =>
  Effect.try({
    try: () => {
      const caFile = path.join(dir, "ca.crt")
      if (stillUsable(dir)) return { caFile, created: false }
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
      const ca = makeCa()
      const serving = issueServing(ca, LOCAL_NAMES)
      fs.writeFileSync(caFile, ca.certPem)
      fs.writeFileSync(path.join(dir, "tls.key"), serving.keyPem, { mode: 0o600 })
      fs.writeFileSync(path.join(dir, "tls.crt"), serving.certPem)
      return { caFile, created: true }
    },
    catch: (cause) => new EmbeddedCertError({ reason: `cannot create certificates in ${dir}: ${(cause as Error).message}` })
  })
