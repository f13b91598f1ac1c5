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

/** Place: where one group/key is looked for, and the env var it becomes in the Pod. */
interface Place {
  readonly envName: string
  /** The value from the webhook's own environment (read once at start-up), if set. */
  readonly fromEnv: Redacted.Redacted<string> | undefined
  readonly file: string
  /** false when group or key would leave the secrets folder: the file is never read. */
  readonly safe: boolean
  readonly podEnvName: string
}

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
  // Where a group/key is looked for depends only on the config: worked out once per pair (Pods of a task ask
  // for the same secrets), as nested maps so that no separator can make two pairs collide.
  const places = new Map<string, Map<string, Place>>()
  let placeCount = 0
  const placeOf = (group: string, key: string): Place => {
    const byKey = places.get(group)
    const known = byKey?.get(key)
    if (known !== undefined) return known
    const envName = `${config.secrets.envPrefix}${group.toUpperCase()}_${key.toUpperCase()}`
    const fromEnv = config.globalEnv.get(envName)
    const place: Place = {
      envName,
      fromEnv,
      file: path.join(config.secrets.secretsPrefix, group, key),
      safe: safeSegment(group) && safeSegment(key),
      podEnvName: secretEnvName(group, key)
    }
    if (placeCount >= 4096) {
      places.clear()
      placeCount = 0
    }
    if (byKey === undefined) places.set(group, new Map([[key, place]]))
    else byKey.set(key, place)
    placeCount++
    return place
  }
  const lookup = (secret: SecretRequest): Injection => {
    if (secret.mountRequirement === "FILE") return notFound("serves env vars only, not FILE")
    if (secret.group === "" || secret.key === "") return notFound("needs both group and key")
    const place = placeOf(secret.group, secret.key)
    let value = place.fromEnv === undefined ? undefined : Redacted.value(place.fromEnv)
    if (value === undefined && place.safe) {
      try {
        value = cachedFileValue(place.file)
      } catch (cause) {
        return reject("Global", `cannot read ${place.file}: ${(cause as Error).message}`)
      }
    }
    if (value === undefined) return notFound(`no env ${place.envName} and no file ${place.file}`)
    return injected([addEnv(EnvPrefixVar, EnvVarPrefix), addEnv(place.podEnvName, value)])
  }
  return { type: "Global", inject: lookup }
}
