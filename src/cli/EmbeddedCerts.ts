/**
 * EmbeddedCerts: a throwaway CA and a serving certificate for `localhost` / `127.0.0.1`, for `serve --embedded`
 * (`npm start`), the HTTP tests and the benchmark. Not for clusters: the CertService issues those. Both use the
 * same Issuer (services/certs/Issuer.ts); this file only picks the names, the validity and the files.
 */
import { Data, Effect } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { generateKeySync, issueCa, issueServing as issueCertificate } from "../services/certs/Issuer.ts"

export class EmbeddedCertError extends Data.TaggedError("EmbeddedCertError")<{ readonly reason: string }> {}

export interface Issued {
  readonly certPem: string
  readonly keyPem: string
}

const DayMillis = 86_400_000
const validity = (days: number) => ({
  notBefore: new Date(Date.now() - 60_000),
  notAfter: new Date(Date.now() + days * DayMillis)
})

/** makeCa creates a self-signed CA valid for `days`, with the webhook's own issuer. */
export const makeCa = (commonName = "flyte-pod-webhook embedded CA", days = 365): Issued => {
  const key = generateKeySync(2048)
  const certPem = Effect.runSync(issueCa({ key, commonName, ...validity(days) }))
  return { certPem, keyPem: key.privatePem }
}

/** issueServing signs a serving certificate for the given DNS names and IPs with `ca`. */
export const issueServing = (
  ca: Issued,
  names: { readonly dns: ReadonlyArray<string>; readonly ips: ReadonlyArray<string> },
  days = 90
): Issued => {
  const key = generateKeySync(2048)
  const certPem = Effect.runSync(issueCertificate({
    key,
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    commonName: names.dns[0] ?? names.ips[0] ?? "localhost",
    names: [...names.dns, ...names.ips],
    ...validity(days)
  }))
  return { certPem, keyPem: key.privatePem }
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
