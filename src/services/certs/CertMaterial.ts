/**
 * CertMaterial: the four PEM texts of the webhook's certificate Secret, under the key names Flyte's webhook and
 * the seed's Deployment use (`ca.crt`, `tls.crt`, `tls.key`, plus our `ca.key` so the serving certificate can
 * be renewed without a new CA). `ca.crt` may hold several CA certificates while a CA rotates. An absent key
 * reads as "". Also writes the material as files (webhook.localCert), keys mode 0600.
 */
import { Data, Effect } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"

export interface CertMaterial {
  /** PEM bundle of trusted CAs (what the API server gets as caBundle). */
  readonly caCrt: string
  /** PEM private key of the signing CA (the newest CA in caCrt). */
  readonly caKey: string
  /** PEM serving certificate. */
  readonly tlsCrt: string
  /** PEM serving private key. */
  readonly tlsKey: string
}

export const EmptyMaterial: CertMaterial = { caCrt: "", caKey: "", tlsCrt: "", tlsKey: "" }

/** SecretKeys: material field → Secret data key (and file name in certDir). */
export const SecretKeys = {
  caCrt: "ca.crt",
  caKey: "ca.key",
  tlsCrt: "tls.crt",
  tlsKey: "tls.key"
} as const satisfies Record<keyof CertMaterial, string>

const fields = Object.keys(SecretKeys) as ReadonlyArray<keyof CertMaterial>

/** fromSecretData decodes a Secret's base64 `data`. */
export const fromSecretData = (data: Readonly<Record<string, string>> | undefined): CertMaterial => {
  const read = (key: string) => {
    const value = data?.[key]
    return value === undefined ? "" : Buffer.from(value, "base64").toString("utf8")
  }
  return {
    caCrt: read(SecretKeys.caCrt),
    caKey: read(SecretKeys.caKey),
    tlsCrt: read(SecretKeys.tlsCrt),
    tlsKey: read(SecretKeys.tlsKey)
  }
}

/** toSecretData encodes the material over `existing` data (keys we do not own are kept). */
export const toSecretData = (
  material: CertMaterial,
  existing: Readonly<Record<string, string>> = {}
): Record<string, string> => {
  const data: Record<string, string> = { ...existing }
  for (const field of fields) data[SecretKeys[field]] = Buffer.from(material[field], "utf8").toString("base64")
  return data
}

export const sameMaterial = (a: CertMaterial, b: CertMaterial): boolean =>
  fields.every((field) => a[field] === b[field])

/** CertFilesError: the material could not be written to certDir. */
export class CertFilesError extends Data.TaggedError("CertFilesError")<{ readonly message: string }> {}

/**
 * writeMaterialFiles writes the four files into `dir` (created if missing), each through a temporary file and
 * a rename so a reader never sees half a file; private keys get mode 0600, certificates 0644.
 */
export const writeMaterialFiles = (dir: string, material: CertMaterial): Effect.Effect<void, CertFilesError> =>
  Effect.try({
    try: () => {
      fs.mkdirSync(dir, { recursive: true, mode: 0o755 })
      for (const field of fields) {
        const target = path.join(dir, SecretKeys[field])
        const mode = field === "caKey" || field === "tlsKey" ? 0o600 : 0o644
        const temporary = `${target}.${process.pid}.tmp`
        fs.writeFileSync(temporary, material[field], { mode })
        fs.chmodSync(temporary, mode)
        fs.renameSync(temporary, target)
      }
    },
    catch: (cause) => new CertFilesError({ message: `cannot write certificates to ${dir}: ${(cause as Error).message}` })
  })
