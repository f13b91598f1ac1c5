/**
 * Global: secrets mounted into the webhook itself, copied into the Pod as env values (spec section 2).
 * Looks up env `<env-prefix><GROUP>_<KEY>`, then the file `<secrets-prefix>/<group>/<key>`.
 *
 * The value lands in the Pod spec (that is what "mount them directly" means) and so in the patch; it is
 * never logged, and audit annotations carry only names. Ours refuses group or key that would leave the
 * secrets folder (`..`, `/`, NUL): Flyte joined them into a path, so a Pod could ask for any file the
 * webhook can read (its TLS key, its service account token).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Redacted } from "effect"
import { EnvPrefixVar, EnvVarPrefix, secretEnvName } from "../../domain/FlyteNames.ts"
import { addEnv } from "../../domain/PodEdit.ts"
import type { SecretRequest } from "../../domain/SecretRequest.ts"
import type { WebhookConfigShape } from "../../WebhookConfig.ts"
import { type Injection, injected, notFound, reject, type SecretManager } from "./SecretManager.ts"

/** A mounted secret larger than this is refused rather than copied into a Pod spec. */
const MaxValueBytes = 256 * 1024

const safeSegment = (s: string) => s !== "" && s !== "." && s !== ".." && !/[/\\\u0000]/.test(s)

const readFileValue = (file: string): string | undefined => {
  try {
    // throwIfNoEntry: a missing file is the common case; an ENOENT exception per lookup cost ~10 % of a request.
    const stat = fs.statSync(file, { throwIfNoEntry: false })
    if (stat === undefined || !stat.isFile()) return undefined
    if (stat.size > MaxValueBytes) throw new Error(`larger than ${MaxValueBytes} bytes`)
    return fs.readFileSync(file, "utf8")
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return undefined
    throw cause
  }
}

/**
 * How long a file lookup (found or not) is reused. The kubelet takes about a minute to update a mounted Secret,
 * so a second more changes nothing a user can see, and saves a stat (and a read) on every request.
 */
const FileCacheMillis = 1000

export const makeGlobalManager = (config: WebhookConfigShape): SecretManager => {
  const files = new Map<string, { readonly at: number; readonly value: string | undefined }>()
  const cachedFileValue = (file: string): string | undefined => {
    const now = performance.now()
    const hit = files.get(file)
    if (hit !== undefined && now - hit.at < FileCacheMillis) return hit.value
    const value = readFileValue(file) // throws on an unreadable file: not cached, reported every time
    if (files.size >= 4096) files.clear()
    files.set(file, { at: now, value })
    return value
  }
  const lookup = (secret: SecretRequest): Injection => {
    if (secret.mountRequirement === "FILE") return notFound("serves env vars only, not FILE")
    if (secret.group === "" || secret.key === "") return notFound("needs both group and key")
    const envName = `${config.secrets.envPrefix}${secret.group.toUpperCase()}_${secret.key.toUpperCase()}`
    const fromEnv = config.globalEnv.get(envName)
    const file = path.join(config.secrets.secretsPrefix, secret.group, secret.key)
    let value = fromEnv === undefined ? undefined : Redacted.value(fromEnv)
    if (value === undefined && safeSegment(secret.group) && safeSegment(secret.key)) {
      try {
        value = cachedFileValue(file)
      } catch (cause) {
        return reject("Global", `cannot read ${file}: ${(cause as Error).message}`)
      }
    }
    if (value === undefined) return notFound(`no env ${envName} and no file ${file}`)
    return injected([
      addEnv(EnvPrefixVar, EnvVarPrefix),
      addEnv(secretEnvName(secret.group, secret.key), value)
    ])
  }
  return { type: "Global", inject: lookup }
}
