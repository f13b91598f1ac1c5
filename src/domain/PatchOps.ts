/**
 * PatchOps: the RFC 6902 ops of a finished plan, in a stable order (annotations, volume items, new volumes, init
 * containers, new init containers, containers). An array the Pod lacks is added whole; otherwise items are
 * appended one by one with `/-`, so nothing the Pod has is ever rewritten.
 */
import { add, type JsonPatchOp, pointer } from "./JsonPatch.ts"
import { asArray, asObject } from "./Pod.ts"
import type { JsonObject } from "./PodEdit.ts"
import { type ContainerState, itemsOf } from "./PodState.ts"
import type { VolumeSet } from "./VolumeNames.ts"

export const annotationOps = (existing: JsonObject | undefined, added: ReadonlyMap<string, string>): Array<JsonPatchOp> => {
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

export const volumeOps = (spec: JsonObject, volumes: VolumeSet): Array<JsonPatchOp> => {
  const ops: Array<JsonPatchOp> = []
  const added: Array<unknown> = []
  for (const v of volumes.all) {
    if (v.index === undefined) {
      if (!v.used) continue
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

export const containerOps = (field: string, containers: ReadonlyArray<ContainerState>): Array<JsonPatchOp> => {
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

export const newInitContainerOps = (spec: JsonObject, added: ReadonlyArray<ContainerState>): Array<JsonPatchOp> =>
  appendOps(spec, ["spec"], "initContainers", added.map(withAdditions))
