/**
 * FlyteSecret: writes a Pod's secret request the way flytepropeller does (spec section 1): the protobuf text
 * format of flyteidl.core.Secret, base32 with Flyte's lower-case alphabet and no padding, in annotation
 * `flyte.secrets/s<N>`. Written here from the spec, independently of src/domain, so the end-to-end suite does
 * not decode its own inputs with the code it tests.
 */

export type MountRequirement = "ANY" | "ENV_VAR" | "FILE"

export interface Secret {
  readonly group?: string
  readonly groupVersion?: string
  readonly key?: string
  readonly mountRequirement?: MountRequirement
  readonly envVar?: string
}

const Alphabet = "abcdefghijklmnopqrstuvwxyz123456"

/** flyteBase32: RFC 4648 base32 over Flyte's alphabet, unpadded. */
export const flyteBase32 = (bytes: Uint8Array): string => {
  let out = ""
  let buffer = 0
  let bits = 0
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte
    bits += 8
    while (bits >= 5) {
      out += Alphabet[(buffer >>> (bits - 5)) & 31]
      bits -= 5
    }
  }
  if (bits > 0) out += Alphabet[(buffer << (5 - bits)) & 31]
  return out
}

const quote = (text: string) => `"${text.replace(/\\/g, "\\\\").replace(/"/g, "\\\"").replace(/\n/g, "\\n")}"`

/** protoText: the text format as golang/protobuf writes it (field order, empty fields and ANY omitted). */
export const protoText = (secret: Secret): string =>
  [
    secret.group ? `group: ${quote(secret.group)}\n` : "",
    secret.groupVersion ? `group_version: ${quote(secret.groupVersion)}\n` : "",
    secret.key ? `key: ${quote(secret.key)}\n` : "",
    secret.mountRequirement !== undefined && secret.mountRequirement !== "ANY"
      ? `mount_requirement: ${secret.mountRequirement}\n`
      : "",
    secret.envVar ? `env_var: ${quote(secret.envVar)}\n` : ""
  ].join("")

/** encodeSecret: the annotation value for one secret. */
export const encodeSecret = (secret: Secret): string => flyteBase32(new TextEncoder().encode(protoText(secret)))

/** secretAnnotations: `flyte.secrets/s0..` for the given secrets, in order. */
export const secretAnnotations = (secrets: ReadonlyArray<Secret>): Record<string, string> =>
  Object.fromEntries(secrets.map((secret, index) => [`flyte.secrets/s${index}`, encodeSecret(secret)]))
