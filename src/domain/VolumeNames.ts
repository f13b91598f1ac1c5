/**
 * VolumeNames: which Pod volume each volume a manager asks for becomes.
 *
 * The plan adds one volume per source (per Kubernetes Secret for `secret` volumes, items merged; per name for
 * others), under the name the manager asks for when that name is free, or when the volume already there is ours:
 * the same source, mounted only where this plan mounts it (what an earlier pass of the webhook left). A name taken by
 * anything else (a user's emptyDir called `aws-secret-vol`, a user's volume of the same Secret mounted at
 * `/mnt/creds`) is never reused: the first free or ours of `<name>-1`, `<name>-2`, ... is, so the user's volume
 * stays as it was and the name stays a DNS label of at most 63 characters (issue 12, cases 1 and 2). Flyte reused
 * any volume of that name, and merged items into any volume of the same Secret even when it was mounted elsewhere.
 */
import { alternateName } from "./KubeNames.ts"
import { asArray, asObject, isObject } from "./Pod.ts"
import type { JsonObject, PodEdit, Volume } from "./PodEdit.ts"
import { type ContainerState, itemsOf, mergeItems, sameJson, secretNameOf, type VolumeState } from "./PodState.ts"
import { cleanPath } from "./PosixPath.ts"

export interface VolumeSet {
  /** The Pod's volumes, then the ones the plan may add, in order. */
  readonly all: Array<VolumeState>
  readonly byName: Map<string, VolumeState>
  /** Requested name → the name it resolved to. */
  readonly alias: Map<string, string>
  /** Source → the volume the plan uses for it. */
  readonly bySource: Map<string, VolumeState>
  /** The items the plan's own requests need from a secret volume (what a volume mounted in its place must hold). */
  readonly wanted: Map<VolumeState, Array<JsonObject>>
}

export const volumeSet = (podVolumes: ReadonlyArray<unknown>): VolumeSet => {
  const all: Array<VolumeState> = podVolumes.map((v, index) => ({ original: asObject(v), index, addedItems: [], used: false }))
  const byName = new Map<string, VolumeState>()
  for (const v of all) {
    const name = String(v.original["name"])
    if (!byName.has(name)) byName.set(name, v)
  }
  return { all, byName, alias: new Map(), bySource: new Map(), wanted: new Map() }
}

export const resolvedName = (set: VolumeSet, requested: string): string => set.alias.get(requested) ?? requested

/** sourceKey: what makes two volumes interchangeable for the plan: the Secret, or else the name. */
export const sourceKey = (volume: JsonObject): string => {
  const secretName = secretNameOf(volume)
  return secretName === undefined ? `volume\u0000${String(volume["name"])}` : `secret\u0000${secretName}`
}

/** Places: where the plan mounts each source; a volume mounted anywhere else is not ours. */
export interface Places {
  readonly source: (requestedName: string) => string
  readonly allowed: (source: string, path: string, puller: boolean) => boolean
  readonly mountsOf: (name: string) => ReadonlyArray<{ readonly path: string; readonly subPath: boolean; readonly puller: boolean }>
}

export const places = (edits: ReadonlyArray<PodEdit>, containers: ReadonlyArray<ContainerState>): Places => {
  const sources = new Map<string, string>()
  for (const edit of edits) if (edit._tag === "AddVolume") sources.set(edit.volume.name, sourceKey(edit.volume))
  const source = (name: string) => sources.get(name) ?? `volume\u0000${name}`
  const paths = new Map<string, Set<string>>()
  const pullerPaths = new Map<string, Set<string>>()
  const note = (into: Map<string, Set<string>>, name: unknown, path: unknown) => {
    if (typeof name !== "string" || typeof path !== "string") return
    const key = source(name)
    into.set(key, (into.get(key) ?? new Set()).add(cleanPath(path)))
  }
  for (const edit of edits) {
    if (edit._tag === "AddMount") note(paths, edit.mount.name, edit.mount.mountPath)
    if (edit._tag === "AddInitContainer") {
      for (const m of asArray(edit.container["volumeMounts"]).map(asObject)) note(pullerPaths, m["name"], m["mountPath"])
    }
  }
  let byVolume: Map<string, Array<{ path: string; subPath: boolean; puller: boolean }>> | undefined
  const mountsOf = (name: string) => {
    if (byVolume === undefined) {
      byVolume = new Map()
      for (const c of containers) {
        for (const m of asArray(c.original["volumeMounts"]).map(asObject)) {
          const key = String(m["name"])
          const path = typeof m["mountPath"] === "string" ? cleanPath(m["mountPath"]) : ""
          const subPath = (typeof m["subPath"] === "string" && m["subPath"] !== "") || (typeof m["subPathExpr"] === "string" && m["subPathExpr"] !== "")
          const list = byVolume.get(key) ?? []
          list.push({ path, subPath, puller: c.puller })
          byVolume.set(key, list)
        }
      }
    }
    return byVolume.get(name) ?? []
  }
  return {
    source,
    allowed: (key, path, puller) => (paths.get(key)?.has(path) ?? false) || (puller && (pullerPaths.get(key)?.has(path) ?? false)),
    mountsOf
  }
}

const sameSource = (have: JsonObject, want: Volume): boolean => {
  const secretName = secretNameOf(want)
  if (secretName !== undefined) {
    return secretNameOf(have) === secretName && Object.keys(have).every((k) => k === "name" || k === "secret")
  }
  const { name: _have, ...haveSource } = have
  const { name: _want, ...wantSource } = want
  return sameJson(haveSource, wantSource)
}

/** mountedOnlyWhereWeMount: every mount of `name` in the Pod is one this plan would make. */
const mountedOnlyWhereWeMount = (name: string, requested: Volume, where: Places): boolean => {
  const key = where.source(requested.name)
  return where.mountsOf(name).every((m) => !m.subPath && where.allowed(key, m.path, m.puller))
}

/** isOurs: the Pod's volume `name` is what this plan would have added under that name. */
const isOurs = (existing: VolumeState, name: string, requested: Volume, where: Places): boolean =>
  sameSource(existing.original, requested) && mountedOnlyWhereWeMount(name, requested, where)

const pick = (set: VolumeSet, requested: Volume, where: Places): VolumeState => {
  for (let i = 0;; i++) {
    const name = i === 0 ? requested.name : alternateName(requested.name, i)
    const existing = set.byName.get(name)
    // A name no volume has, but which a container mounts elsewhere (a Pod the API server would refuse), is taken too.
    if (existing === undefined && mountedOnlyWhereWeMount(name, requested, where)) {
      const added: VolumeState = { original: { ...requested, name }, index: undefined, addedItems: [], used: false }
      set.all.push(added)
      set.byName.set(name, added)
      return added
    }
    if (existing !== undefined && existing.index !== undefined && isOurs(existing, name, requested, where)) return existing
  }
}

/** resolveVolume settles the volume for one AddVolume edit and merges its items into it. */
export const resolveVolume = (set: VolumeSet, requested: Volume, where: Places): void => {
  const key = sourceKey(requested)
  let target = set.bySource.get(key)
  if (target === undefined) {
    target = pick(set, requested, where)
    set.bySource.set(key, target)
  }
  set.alias.set(requested.name, String(target.original["name"]))
  const items = itemsOf(requested)
  if (items !== undefined) {
    set.wanted.set(target, [...(set.wanted.get(target) ?? []), ...items])
    mergeItems(target, items)
  }
}

/**
 * shareItems: a container already mounts `present` where the plan mounts `planned`. When both are volumes of the
 * same Secret, the Pod's one serves our folder there (Flyte merged the same way), so it gets the items ours needs.
 */
export const shareItems = (set: VolumeSet, present: string, planned: string): void => {
  const have = set.byName.get(present)
  const want = set.byName.get(planned)
  if (have === undefined || want === undefined || !isObject(have.original["secret"])) return
  const secretName = secretNameOf(want.original)
  if (secretName === undefined || secretNameOf(have.original) !== secretName) return
  mergeItems(have, set.wanted.get(want) ?? [])
}
