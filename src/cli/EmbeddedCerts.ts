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

/** stillUsable: the files exist, the leaf is signed by ca.crt, valid for another day and covers both names. */
const stillUsable = (dir: string): boolean => {
  try {
    const leaf = new crypto.X509Certificate(fs.readFileSync(path.join(dir, "tls.crt")))
    const ca = new crypto.X509Certificate(fs.readFileSync(path.join(dir, "ca.crt")))
    const key = crypto.createPrivateKey(fs.readFileSync(path.join(dir, "tls.key")))
    return leaf.checkPrivateKey(key) && leaf.verify(ca.publicKey) && leaf.checkIP("127.0.0.1") !== undefined &&
      leaf.checkHost("localhost") !== undefined && new Date(leaf.validTo).getTime() > Date.now() + 86_400_000
  } catch {
    return false
  }
}

/** Modes: the folder and the key are the user's alone; certificates are public but writable only by the user. */
const FolderMode = 0o700
const KeyMode = 0o600
const CertMode = 0o644

/**
 * writePrivately replaces `file` through a temporary file created with `mode` and renamed over it, so the
 * content is never readable under a wider mode, whatever mode an earlier file had (a rename replaces the
 * inode, and with it the old mode; `writeFileSync`'s mode applies only to files it creates).
 */
const writePrivately = (file: string, text: string, mode: number) => {
  const temporary = `${file}.${process.pid}.tmp`
  fs.rmSync(temporary, { force: true })
  fs.writeFileSync(temporary, text, { mode, flag: "wx" })
  fs.chmodSync(temporary, mode) // the umask may have narrowed it further; set exactly
  fs.renameSync(temporary, file)
}

/** setMode changes a mode only when it differs (a read-only folder with right modes stays usable). */
const setMode = (file: string, mode: (current: number) => number) => {
  const current = fs.statSync(file).mode & 0o777
  if (mode(current) !== current) fs.chmodSync(file, mode(current))
}

/** narrowModes: the folder 0700, the key 0600, certificates not writable by others (kept files included). */
const narrowModes = (dir: string) => {
  setMode(dir, () => FolderMode)
  setMode(path.join(dir, "tls.key"), () => KeyMode)
  for (const name of ["ca.crt", "tls.crt"]) setMode(path.join(dir, name), (current) => current & CertMode)
}

/**
 * ensureEmbeddedCerts writes `ca.crt`, `tls.crt`, `tls.key` into `dir` unless usable ones are there. Either way
 * the folder ends 0700 and the key 0600, even when they pre-existed with wider modes (issue 10, finding 5).
 */
export const ensureEmbeddedCerts = (dir: string): Effect.Effect<{ readonly caFile: string; readonly created: boolean }, EmbeddedCertError> =>
  Effect.try({
    try: () => {
      const caFile = path.join(dir, "ca.crt")
      if (stillUsable(dir)) {
        narrowModes(dir)
        return { caFile, created: false }
      }
      fs.mkdirSync(dir, { recursive: true, mode: FolderMode })
      setMode(dir, () => FolderMode) // mkdir leaves an existing folder's mode alone
      const ca = makeCa()
      const serving = issueServing(ca, LOCAL_NAMES)
      writePrivately(path.join(dir, "tls.key"), serving.keyPem, KeyMode)
      writePrivately(caFile, ca.certPem, CertMode)
      writePrivately(path.join(dir, "tls.crt"), serving.certPem, CertMode)
      narrowModes(dir)
      return { caFile, created: true }
    },
    catch: (cause) => new EmbeddedCertError({ reason: `cannot create certificates in ${dir}: ${(cause as Error).message}` })
  })
