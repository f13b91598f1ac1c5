/**
 * PatchEstimate: how large a plan's patch can get, worked out from counts before a single op is built.
 *
 * Every env var and mount goes to every container and init container, so the patch grows as containers x items: an
 * 88 KB review of 2,000 containers asking for 300 secrets got a 72 MiB answer (about a second of blocked event
 * loop), and 5,000 x 400 in 186 KB took the process past its 256 MiB heap (issue 9). The Mutator compares this
 * estimate with `webhook.maxPatchBytes` and refuses the review above it, naming the counts. The estimate is an upper
 * bound of the JSON patch: it does not subtract what the Pod already has, so a Pod mutated before (reinvocation) is
 * estimated like the first time, never larger (the pullers added then are counted once, as containers).
 */
import { asArray, asObject } from "./Pod.ts"
import type { PodEdit } from "./PodEdit.ts"

/**
 * DefaultMaxPatchBytes: 1 MiB. The API server stores a Pod of at most ~1.5 MiB (etcd's request limit), so a patch
 * above 1 MiB on top of a Pod can hardly be stored anyway.
 */
export const DefaultMaxPatchBytes = 1024 * 1024

export interface PatchEstimate {
  /** Upper bound of the JSON patch, in bytes (before the base64 of the AdmissionReview answer). */
  readonly bytes: number
  /** Containers and init containers each env var and mount goes to, pullers to be added included. */
  readonly containers: number
  /** Distinct env vars the plan adds (by name), and mounts (by volume and path). */
  readonly envVars: number
  readonly mounts: number
  /** Bytes added once: volumes, puller init containers, annotations. */
  readonly other: number
}

/** Bytes of an op around its value and path: `{"op":"add","path":"","value":},` is 32; a container path ~45. */
const OpBytes = 80

/** utf8Bytes: the UTF-8 length of a string, without encoding it. */
export const utf8Bytes = (text: string): number => {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0x80) bytes += 1
    else if (unit < 0x800) bytes += 2
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) bytes += 4, i++
    else bytes += 3
  }
  return bytes
}

/**
 * The JSON size of each edit's value, by object: the same resolution (and so the same edit objects) serves every
 * Pod of a task for a second (SecretLookup.ts), so each value is measured once. Edits are never changed once
 * built (their fields are readonly), so a size cannot go stale; weakly keyed, it goes with its edit.
 */
const sizes = new WeakMap<object, number>()

const jsonBytes = (value: object): number => {
  const known = sizes.get(value)
  if (known !== undefined) return known
  const bytes = utf8Bytes(JSON.stringify(value) ?? "")
  sizes.set(value, bytes)
  return bytes
}

const sum = (values: Iterable<number>): number => {
  let total = 0
  for (const v of values) total += v
  return total
}

/** estimatePatch: the size of the patch `edits` would get on `pod`, in O(edits + containers). */
export const estimatePatch = (pod: unknown, edits: ReadonlyArray<PodEdit>): PatchEstimate => {
  const spec = asObject(asObject(pod)["spec"])
  const initContainers = asArray(spec["initContainers"])
  const env = new Map<string, number>()
  // Most plans add env vars alone: the other two are made on first use.
  let mounts: Map<string, number> | undefined
  let pullers: Map<string, number> | undefined
  let other = 0
  for (const edit of edits) {
    switch (edit._tag) {
      case "AddEnv":
        env.set(edit.env.name, Math.max(env.get(edit.env.name) ?? 0, jsonBytes(edit.env) + OpBytes))
        break
      case "AddMount":
        mounts ??= new Map()
        mounts.set(`${edit.mount.name}\u0000${edit.mount.mountPath}`, jsonBytes(edit.mount) + OpBytes)
        break
      case "AddVolume":
        other += jsonBytes(edit.volume) + OpBytes
        break
      case "AddInitContainer":
        other += jsonBytes(edit.container) + OpBytes
        pullers ??= new Map()
        pullers.set(edit.namePrefix, (pullers.get(edit.namePrefix) ?? 0) + 1)
        break
      case "AddAnnotations":
        for (const [key, value] of Object.entries(edit.annotations)) other += 2 * utf8Bytes(key) + utf8Bytes(JSON.stringify(value)) + OpBytes
        break
      default:
        break
    }
  }
  // Pullers an earlier pass added are already among the init containers: count only those beyond them.
  let newPullers = 0
  for (const [prefix, count] of pullers ?? []) {
    const present = initContainers.filter((c) => String(asObject(c)["name"]).startsWith(prefix)).length
    newPullers += Math.max(0, count - present)
  }
  const containers = initContainers.length + asArray(spec["containers"]).length + newPullers
  const perContainer = sum(env.values()) + (mounts === undefined ? 0 : sum(mounts.values()))
  return { bytes: containers * perContainer + other, containers, envVars: env.size, mounts: mounts?.size ?? 0, other }
}
