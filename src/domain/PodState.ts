/**
 * PodState: the Patcher's working view of a Pod's containers and volumes while it plans: what each already has
 * plus what the plan adds, with the lookups the plan needs (env vars by name, mounts by clean path). Lookups are
 * built on first use: this runs for every container of every Pod, and a plan of env vars never needs the mounts.
 */
import { asArray, asObject, isObject } from "./Pod.ts"
import type { EnvVar, JsonObject, VolumeMount } from "./PodEdit.ts"
import { cleanPath } from "./PosixPath.ts"

/** EnvDefinition: what gives an env var its value. */
export interface EnvDefinition {
  readonly value?: unknown
  readonly valueFrom?: unknown
}

/** EnvEntry: the env var a container has under a name, whether the Pod set it, and which secret added it. */
export interface EnvEntry {
  readonly env: EnvDefinition
  readonly own: boolean
  readonly secret?: string
}

/** MountAt: the volume mounted at a path, and whether only a sub-path of it is (then it is not our folder). */
export interface MountAt {
  readonly name: string
  readonly subPath: boolean
}

export interface ContainerState {
  readonly original: JsonObject
  /** A puller init container: one this plan adds, or one an earlier pass added (same image, command and env). */
  puller: boolean
  readonly addedEnv: Array<EnvVar>
  readonly addedMounts: Array<VolumeMount>
  env: Map<string, EnvEntry> | undefined
  mounts: Map<string, MountAt> | undefined
  mountNames: Set<string> | undefined
}

export const containerState = (container: unknown, puller = false): ContainerState => ({
  original: asObject(container),
  puller,
  addedEnv: [],
  addedMounts: [],
  env: undefined,
  mounts: undefined,
  mountNames: undefined
})

/** containerName: the container's name for messages. */
export const containerName = (c: ContainerState): string => JSON.stringify(c.original["name"] ?? "")

/** envOf: name → env var, the Pod's own first (the last of a repeated name wins, as in the kubelet). */
export const envOf = (c: ContainerState): Map<string, EnvEntry> => {
  if (c.env !== undefined) return c.env
  const env = new Map<string, EnvEntry>()
  for (const entry of asArray(c.original["env"])) {
    const e = asObject(entry)
    if (typeof e["name"] === "string") env.set(e["name"], { env: e, own: true })
  }
  return (c.env = env)
}

const hasText = (value: unknown): boolean => typeof value === "string" && value !== ""

/** mountsOf: clean mountPath → the mount there. */
export const mountsOf = (c: ContainerState): Map<string, MountAt> => {
  if (c.mounts !== undefined) return c.mounts
  const mounts = new Map<string, MountAt>()
  for (const entry of asArray(c.original["volumeMounts"])) {
    const m = asObject(entry)
    if (typeof m["mountPath"] !== "string") continue
    const path = cleanPath(m["mountPath"])
    if (!mounts.has(path)) {
      mounts.set(path, { name: String(m["name"]), subPath: hasText(m["subPath"]) || hasText(m["subPathExpr"]) })
    }
  }
  return (c.mounts = mounts)
}

/** mountNamesOf: the names of the volumes the container mounts anywhere. */
export const mountNamesOf = (c: ContainerState): Set<string> => {
  if (c.mountNames !== undefined) return c.mountNames
  const names = new Set<string>()
  for (const entry of asArray(c.original["volumeMounts"])) names.add(String(asObject(entry)["name"]))
  return (c.mountNames = names)
}

/** sameJson: structural equality of JSON values (object key order and undefined members ignored). */
export const sameJson = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameJson(x, b[i]))
  if (!isObject(a) || !isObject(b)) return false
  const keys = Object.keys(a).filter((k) => a[k] !== undefined)
  return keys.length === Object.keys(b).filter((k) => b[k] !== undefined).length && keys.every((k) => sameJson(a[k], b[k]))
}

/** sameEnv: two definitions of an env var give the container the same value (an absent value is ""). */
export const sameEnv = (have: EnvDefinition, want: EnvVar): boolean =>
  (have.value ?? "") === (want.value ?? "") && sameJson(have.valueFrom, want.valueFrom)

export interface VolumeState {
  /** The volume as the Pod has it, or, for one the plan adds, as it will be added (under its resolved name). */
  readonly original: JsonObject
  /** Index in the Pod's volumes, or undefined for a volume the plan adds. */
  readonly index: number | undefined
  readonly addedItems: Array<JsonObject>
  /** A volume the plan adds is only added when something mounts it. */
  used: boolean
}

export const secretNameOf = (volume: JsonObject): string | undefined => {
  const secret = volume["secret"]
  return isObject(secret) && typeof secret["secretName"] === "string" ? secret["secretName"] : undefined
}

export const itemsOf = (volume: JsonObject): ReadonlyArray<JsonObject> | undefined => {
  const secret = asObject(volume["secret"])
  return Array.isArray(secret["items"]) ? secret["items"].map(asObject) : undefined
}

/** finalItems: the items a secret volume will have; undefined when it projects every key of its Secret. */
export const finalItems = (v: VolumeState): ReadonlyArray<JsonObject> | undefined => {
  const items = itemsOf(v.original)
  return items === undefined ? undefined : [...items, ...v.addedItems]
}

const itemPath = (item: JsonObject): string | undefined =>
  typeof item["path"] === "string" ? cleanPath(item["path"]) : undefined

/** itemsAt: the items of a secret volume that put a key at a path (relative, clean). */
export const itemsAt = (items: ReadonlyArray<JsonObject>, path: string): ReadonlyArray<JsonObject> =>
  items.filter((item) => itemPath(item) === path)

/**
 * mergeItems adds each item whose path the volume does not fill yet. A volume without items projects every key of
 * the Secret: adding items would narrow it, so it is left alone (FileCheck then says whether the key is there).
 */
export const mergeItems = (v: VolumeState, items: ReadonlyArray<JsonObject>): void => {
  const have = finalItems(v)
  if (have === undefined) return
  const taken = new Set(have.map(itemPath))
  for (const item of items) {
    const path = itemPath(item)
    if (taken.has(path)) continue
    taken.add(path)
    v.addedItems.push(item)
  }
}
