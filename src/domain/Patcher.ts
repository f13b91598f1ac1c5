/**
 * Patcher: pod + plan → minimal RFC 6902 ops on the raw object. Pure.
 *
 * It never re-encodes the Pod (re-serialising a typed Pod silently drops fields the webhook does not know,
 * the trap vault-k8s avoids too) and never removes or rewrites a field: every op is an `add` of something
 * absent. Edits apply in two phases so that the result does not depend on plan order and a second run adds
 * nothing (idempotent, safe under `reinvocationPolicy: IfNeeded`):
 *   1. structure, in plan order: annotations, volumes (secret volumes merged by Secret name), init containers;
 *   2. env vars and mounts, in plan order, to every init container (old and new) and every container.
 * Op order is stable: annotations, volume items, new volumes, init containers, new init containers, containers.
 */
import { add, type JsonPatchOp, pointer } from "./JsonPatch.ts"
import { asArray, asObject, isObject } from "./Pod.ts"
import type { EnvVar, JsonObject, PodEdit, Volume, VolumeMount } from "./PodEdit.ts"

const nameOf = (value: unknown): unknown => asObject(value)["name"]
const deepEqual = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)

/**
 * A container's env and mounts as they will be: existing names/paths plus what we add. The lookup sets are
 * built on first use (a plan of env vars never needs the mount sets): this runs for every container of every Pod.
 */
interface ContainerState {
  readonly original: JsonObject
  readonly addedEnv: Array<EnvVar>
  readonly addedMounts: Array<VolumeMount>
  envNames: Set<string> | undefined
  mounts: { readonly names: Set<string>; readonly paths: Map<string, string> } | undefined
}

const containerState = (container: unknown): ContainerState => ({
  original: asObject(container),
  addedEnv: [],
  addedMounts: [],
  envNames: undefined,
  mounts: undefined
})

const envNamesOf = (c: ContainerState): Set<string> => {
  if (c.envNames !== undefined) return c.envNames
  const names = new Set<string>()
  for (const entry of asArray(c.original["env"])) {
    const name = nameOf(entry)
    if (typeof name === "string") names.add(name)
  }
  return (c.envNames = names)
}

/** mountsOf: the names of the volumes mounted, and mountPath → the volume mounted there. */
const mountsOf = (c: ContainerState): NonNullable<ContainerState["mounts"]> => {
  if (c.mounts !== undefined) return c.mounts
  const names = new Set<string>()
  const paths = new Map<string, string>()
  for (const entry of asArray(c.original["volumeMounts"])) {
    const mount = asObject(entry)
    const name = mount["name"]
    if (typeof name === "string") names.add(name)
    if (typeof mount["mountPath"] === "string") paths.set(mount["mountPath"], String(name))
  }
  return (c.mounts = { names, paths })
}

interface VolumeState {
  readonly original: JsonObject
  /** Index in the Pod's volumes, or undefined for a volume we add. */
  readonly index: number | undefined
  readonly addedItems: Array<JsonObject>
}

const secretNameOf = (volume: JsonObject): string | undefined => {
  const secret = volume["secret"]
  return isObject(secret) && typeof secret["secretName"] === "string" ? secret["secretName"] : undefined
}

const itemsOf = (volume: JsonObject): ReadonlyArray<JsonObject> | undefined => {
  const secret = asObject(volume["secret"])
  return Array.isArray(secret["items"]) ? secret["items"].map(asObject) : undefined
}

/** A puller init container is already there when one has the same image, command and env values. */
const sameInitContainer = (existing: JsonObject, planned: JsonObject): boolean => {
  if (existing["image"] !== planned["image"] || !deepEqual(existing["command"], planned["command"])) return false
  const env = asArray(existing["env"]).map(asObject)
  return asArray(planned["env"]).every((want) => env.some((have) => deepEqual(have, want)))
}

/** plan turns a Pod and an ordered list of edits into the ops that apply them. */
export const plan = (pod: unknown, edits: ReadonlyArray<PodEdit>): ReadonlyArray<JsonPatchOp> => planPatch(pod, edits).ops

/**
 * PatchPlan: the ops, and the mounts that could not be added because another volume already uses their path
 * in some container. A conflict means a secret would silently be missing, so the Mutator refuses the Pod.
 */
export interface PatchPlan {
  readonly ops: ReadonlyArray<JsonPatchOp>
  readonly conflicts: ReadonlyArray<string>
}

export const planPatch = (pod: unknown, edits: ReadonlyArray<PodEdit>): PatchPlan => {
  const metadata = asObject(asObject(pod)["metadata"])
  const spec = asObject(asObject(pod)["spec"])
  const annotations = isObject(metadata["annotations"]) ? metadata["annotations"] : undefined
  const addedAnnotations = new Map<string, string>()
  const volumes: Array<VolumeState> = asArray(spec["volumes"]).map((v, index) => ({
    original: asObject(v),
    index,
    addedItems: []
  }))
  const volumeAlias = new Map<string, string>()
  const initContainers = asArray(spec["initContainers"]).map(containerState)
  const existingInit = initContainers.length
  const containers = asArray(spec["containers"]).map(containerState)

  // Phase 1: structure.
  for (const edit of edits) {
    switch (edit._tag) {
      case "AddAnnotations":
        for (const [key, value] of Object.entries(edit.annotations)) {
          if (annotations?.[key] === undefined && !addedAnnotations.has(key)) addedAnnotations.set(key, value)
        }
        break
      case "AddVolume":
        addVolume(volumes, volumeAlias, edit.volume)
        break
      case "AddInitContainer": {
        if (initContainers.some((c) => sameInitContainer(c.original, edit.container))) break
        const container = { ...edit.container, name: freeName(edit.namePrefix, initContainers, containers) }
        initContainers.push(containerState(container))
        break
      }
      default:
        break
    }
  }
  // Phase 2: env vars and mounts everywhere.
  const everyContainer = [...initContainers, ...containers]
  const conflicts: Array<string> = []
  for (const edit of edits) {
    if (edit._tag === "AddEnv") {
      for (const c of everyContainer) {
        const names = envNamesOf(c)
        if (!names.has(edit.env.name)) {
          names.add(edit.env.name)
          c.addedEnv.push(edit.env)
        }
      }
    } else if (edit._tag === "AddMount") {
      const mount = { ...edit.mount, name: volumeAlias.get(edit.mount.name) ?? edit.mount.name }
      for (const c of everyContainer) {
        const mounts = mountsOf(c)
        if (mounts.names.has(mount.name)) continue
        const owner = mounts.paths.get(mount.mountPath)
        if (owner !== undefined) {
          conflicts.push(
            `container ${JSON.stringify(c.original["name"])} already mounts volume ${JSON.stringify(owner)} at ` +
              `${mount.mountPath}, where volume ${JSON.stringify(mount.name)} must go`
          )
          continue
        }
        mounts.names.add(mount.name)
        mounts.paths.set(mount.mountPath, mount.name)
        c.addedMounts.push(mount)
      }
    }
  }
  const ops = [
    ...annotationOps(annotations, addedAnnotations),
    ...volumeOps(spec, volumes),
    ...containerOps("initContainers", initContainers.slice(0, existingInit)),
    ...newInitContainerOps(spec, initContainers.slice(existingInit)),
    ...containerOps("containers", containers)
  ]
  return { ops, conflicts }
}

/**
 * freeName: Flyte's `<prefix><number of init containers before it>`; if a container (init or not) already has
 * that name, the next free number, since Kubernetes refuses a Pod whose container names repeat.
 */
const freeName = (prefix: string, initContainers: ReadonlyArray<ContainerState>, containers: ReadonlyArray<ContainerState>) => {
  const taken = new Set([...initContainers, ...containers].map((c) => c.original["name"]))
  let n = initContainers.length
  while (taken.has(`${prefix}${n}`)) n++
  return `${prefix}${n}`
}

const addVolume = (volumes: Array<VolumeState>, alias: Map<string, string>, volume: Volume): void => {
  const secretName = secretNameOf(volume)
  const sameSecret = secretName === undefined ? undefined : volumes.find((v) => secretNameOf(v.original) === secretName)
  if (sameSecret !== undefined) {
    alias.set(volume.name, String(sameSecret.original["name"]))
    const have = itemsOf(sameSecret.original)
    // A volume without items projects every key of the Secret: adding items would narrow it, so leave it.
    if (have === undefined) return
    for (const item of itemsOf(volume) ?? []) {
      const present = [...have, ...sameSecret.addedItems]
      if (!present.some((h) => h["key"] === item["key"] || h["path"] === item["path"])) {
        sameSecret.addedItems.push(item)
      }
    }
    return
  }
  if (volumes.some((v) => v.original["name"] === volume.name)) return
  volumes.push({ original: volume, index: undefined, addedItems: [] })
}

const annotationOps = (existing: JsonObject | undefined, added: ReadonlyMap<string, string>): Array<JsonPatchOp> => {
  if (added.size === 0) return []
  if (existing === undefined) return [add("/metadata/annotations", Object.fromEntries(added))]
  return [...added].map(([key, value]) => add(pointer("metadata", "annotations", key), value))
}

/** appendOps adds items to an array member: the whole array when it is missing, else `/-` per item. */
const appendOps = (
  parent: JsonObject,
  base: ReadonlyArray<string | number>,
  member: string,
  items: ReadonlyArray<unknown>
): Array<JsonPatchOp> => {
  if (items.length === 0) return []
  if (!Array.isArray(parent[member])) return [add(pointer(...base, member), items)]
  return items.map((item) => add(pointer(...base, member, "-"), item))
}

const volumeOps = (spec: JsonObject, volumes: ReadonlyArray<VolumeState>): Array<JsonPatchOp> => {
  const ops: Array<JsonPatchOp> = []
  const added: Array<unknown> = []
  for (const v of volumes) {
    if (v.index === undefined) {
      const items = itemsOf(v.original)
      added.push(
        v.addedItems.length === 0
          ? v.original
          : { ...v.original, secret: { ...asObject(v.original["secret"]), items: [...(items ?? []), ...v.addedItems] } }
      )
    } else {
      for (const item of v.addedItems) ops.push(add(pointer("spec", "volumes", v.index, "secret", "items", "-"), item))
    }
  }
  return [...ops, ...appendOps(spec, ["spec"], "volumes", added)]
}

const containerOps = (field: string, containers: ReadonlyArray<ContainerState>): Array<JsonPatchOp> => {
  const ops: Array<JsonPatchOp> = []
  for (let i = 0; i < containers.length; i++) {
    const c = containers[i]!
    if (c.addedEnv.length > 0) ops.push(...appendOps(c.original, ["spec", field, i], "env", c.addedEnv))
    if (c.addedMounts.length > 0) ops.push(...appendOps(c.original, ["spec", field, i], "volumeMounts", c.addedMounts))
  }
  return ops
}

const withAdditions = (c: ContainerState): JsonObject => ({
  ...c.original,
  ...(c.addedEnv.length > 0 ? { env: [...asArray(c.original["env"]), ...c.addedEnv] } : {}),
  ...(c.addedMounts.length > 0 ? { volumeMounts: [...asArray(c.original["volumeMounts"]), ...c.addedMounts] } : {})
})

const newInitContainerOps = (spec: JsonObject, added: ReadonlyArray<ContainerState>): Array<JsonPatchOp> =>
  appendOps(spec, ["spec"], "initContainers", added.map(withAdditions))
