/**
 * Patcher: pod + plan → minimal RFC 6902 ops on the raw object, and what the plan could not make true. Pure.
 *
 * It never re-encodes the Pod (re-serialising a typed Pod silently drops fields the webhook does not know,
 * the trap vault-k8s avoids too) and never removes or rewrites a field: every op is an `add` of something
 * absent. Edits apply in phases so that the result does not depend on plan order and a second run adds
 * nothing (idempotent, safe under `reinvocationPolicy: IfNeeded`):
 *   1. structure, in plan order: annotations, volumes (VolumeNames: one per source, never a user's), init containers;
 *   2. env vars and mounts, in plan order, to every init container (old and new) and every container;
 *   3. the invariant (docs/flyte-compat.md, "Never a silently missing secret"): every env var a secret adds holds our
 *      value in every container of the Pod, and every ExpectFile is seen (FileCheck); what fails is a SecretConflict named
 *      after the secret, so the Mutator denies the Pod (or admits it with a warning) instead of admitting it without.
 * Op order is stable: annotations, volume items, new volumes, init containers, new init containers, containers.
 */
import { fileProblem } from "./FileCheck.ts"
import type { JsonPatchOp } from "./JsonPatch.ts"
import { annotationOps, containerOps, newInitContainerOps, volumeOps } from "./PatchOps.ts"
import { asArray, asObject, isObject } from "./Pod.ts"
import type { EnvVar, JsonObject, PodEdit } from "./PodEdit.ts"
import {
  type ContainerState,
  containerName,
  containerState,
  envOf,
  mountNamesOf,
  mountsOf,
  sameEnv,
  sameJson
} from "./PodState.ts"
import { cleanPath } from "./PosixPath.ts"
import { type Places, places, resolvedName, resolveVolume, shareItems, type VolumeSet, volumeSet } from "./VolumeNames.ts"

/** SecretConflict: why a secret would not reach the Pod as asked; `shadowed` when the Pod's own env var is in the way. */
export interface SecretConflict {
  readonly secret: string
  readonly shadowed: boolean
  readonly reasons: ReadonlyArray<string>
}

/**
 * PatchPlan: the ops, and the problems that keep secrets from reaching the Pod (`conflicts`: every reason, flat).
 * The ops stay valid either way: what could not be added without breaking the Pod was left out.
 */
export interface PatchPlan {
  readonly ops: ReadonlyArray<JsonPatchOp>
  readonly secretConflicts: ReadonlyArray<SecretConflict>
  readonly conflicts: ReadonlyArray<string>
}

/** plan turns a Pod and an ordered list of edits into the ops that apply them. */
export const plan = (pod: unknown, edits: ReadonlyArray<PodEdit>): ReadonlyArray<JsonPatchOp> => planPatch(pod, edits).ops

/** Reasons listed per secret; past this, "and N more" (a Pod of thousands of containers gives one line, not thousands). */
const MaxReasons = 3

const problemList = () => {
  // Made on the first problem: most plans have none.
  let bySecret: Map<string, { shadowed: boolean; reasons: Array<string>; seen: Set<string> }> | undefined
  return {
    note: (secret: string, reason: string, shadowed: boolean) => {
      bySecret ??= new Map()
      const entry = bySecret.get(secret) ?? { shadowed: false, reasons: [], seen: new Set() }
      bySecret.set(secret, entry)
      entry.shadowed ||= shadowed
      if (!entry.seen.has(reason)) entry.seen.add(reason), entry.reasons.push(reason)
    },
    done: (): Array<SecretConflict> =>
      bySecret === undefined ? [] : [...bySecret].map(([secret, { reasons, shadowed }]) => ({
        secret,
        shadowed,
        reasons: reasons.length <= MaxReasons ? reasons : [...reasons.slice(0, MaxReasons), `and ${reasons.length - MaxReasons} more`]
      }))
  }
}

export const planPatch = (pod: unknown, edits: ReadonlyArray<PodEdit>): PatchPlan => {
  const metadata = asObject(asObject(pod)["metadata"])
  const spec = asObject(asObject(pod)["spec"])
  const annotations = isObject(metadata["annotations"]) ? metadata["annotations"] : undefined
  const addedAnnotations = new Map<string, string>()
  const initContainers = asArray(spec["initContainers"]).map((c) => containerState(c))
  const existingInit = initContainers.length
  const containers = asArray(spec["containers"]).map((c) => containerState(c))
  const known = recognisePullers(initContainers, edits)
  // Volume bookkeeping only for plans that touch volumes: most add env vars alone (the K8s manager's env refs,
  // Global's values), and need none of it. Both are worked out on first use; `where` only in phase 1, before
  // any init container is added.
  let volumeState: VolumeSet | undefined
  const volumes = (): VolumeSet => (volumeState ??= volumeSet(asArray(spec["volumes"])))
  let placesState: Places | undefined
  const where = (): Places => (placesState ??= places(edits, [...initContainers, ...containers]))

  // Phase 1: structure.
  const newInit: Array<{ readonly prefix: string; readonly container: JsonObject }> = []
  for (const edit of edits) {
    if (edit._tag === "AddAnnotations") {
      for (const [key, value] of Object.entries(edit.annotations)) {
        if (annotations?.[key] === undefined && !addedAnnotations.has(key)) addedAnnotations.set(key, value)
      }
    } else if (edit._tag === "AddVolume") {
      resolveVolume(volumes(), edit.volume, where())
    } else if (edit._tag === "AddInitContainer" && !known.has(edit)) {
      if (!newInit.some((c) => sameInitContainer(c.container, edit.container))) newInit.push({ prefix: edit.namePrefix, container: edit.container })
    }
  }
  for (const { container, prefix } of newInit) {
    const volumeMounts = asArray(container["volumeMounts"]).map(asObject).map((m) => ({ ...m, name: resolvedName(volumes(), String(m["name"])) }))
    for (const m of volumeMounts) markUsed(volumes(), m.name)
    const named = { ...container, name: freeName(prefix, initContainers, containers), ...(volumeMounts.length > 0 ? { volumeMounts } : {}) }
    initContainers.push(containerState(named, true))
  }

  // Phase 2: env vars and mounts everywhere; phase 3: the invariant.
  const everyContainer = [...initContainers, ...containers]
  const problems = problemList()
  for (const edit of edits) {
    if (edit._tag === "AddEnv") addEnvEverywhere(everyContainer, edit.env, edit.secret, problems.note)
    else if (edit._tag === "AddMount") addMountEverywhere(everyContainer, volumes(), edit.mount.name, edit.mount)
  }
  for (const edit of edits) {
    if (edit._tag !== "ExpectFile") continue
    for (const c of everyContainer) {
      if (c.puller) continue
      const reason = fileProblem(volumes(), c, edit)
      if (reason !== undefined) problems.note(edit.secret ?? "", reason, false)
    }
  }
  const ops = [
    ...annotationOps(annotations, addedAnnotations),
    ...(volumeState === undefined ? [] : volumeOps(spec, volumeState)),
    ...containerOps("initContainers", initContainers.slice(0, existingInit)),
    ...newInitContainerOps(spec, initContainers.slice(existingInit)),
    ...containerOps("containers", containers)
  ]
  const found = problems.done()
  return { ops, secretConflicts: found, conflicts: found.flatMap((p) => p.reasons) }
}

/**
 * addEnvEverywhere: the env var goes to every container without one of that name. An existing one is never
 * overridden; when it gives another value, in a container of the Pod's own, the secret is shadowed there (or
 * collides with another secret's env var): a SecretConflict, not a silent loss. Pullers are the webhook's own containers.
 */
const addEnvEverywhere = (
  everyContainer: ReadonlyArray<ContainerState>,
  env: EnvVar,
  secret: string | undefined,
  note: (secret: string, reason: string, shadowed: boolean) => void
) => {
  for (const c of everyContainer) {
    const have = envOf(c)
    const present = have.get(env.name)
    if (present === undefined) {
      have.set(env.name, { env, own: false, ...(secret === undefined ? {} : { secret }) })
      c.addedEnv.push(env)
    } else if (secret !== undefined && !c.puller && !sameEnv(present.env, env)) {
      if (present.own) note(secret, `container ${containerName(c)} sets env var ${env.name} itself`, true)
      else note(secret, `env var ${env.name} is also set, to another value, for secret ${JSON.stringify(present.secret ?? "")}`, false)
    }
  }
}

/**
 * addMountEverywhere: the volume is mounted at the path in every container that has nothing there. A container
 * with another volume of the same Secret there keeps it (it gets our items); anything else there is left alone and
 * FileCheck reports it. A puller that already mounts the volume (where it writes) is not given a second mount.
 */
const addMountEverywhere = (
  everyContainer: ReadonlyArray<ContainerState>,
  volumes: VolumeSet,
  requested: string,
  mount: { readonly mountPath: string; readonly readOnly?: boolean }
) => {
  const name = resolvedName(volumes, requested)
  const path = cleanPath(mount.mountPath)
  for (const c of everyContainer) {
    const mounts = mountsOf(c)
    const present = mounts.get(path)
    if (present !== undefined) {
      // A mount of our volume already there (an earlier pass, or the Pod's author) needs the volume too.
      if (present.name === name) markUsed(volumes, name)
      else if (!present.subPath) shareItems(volumes, present.name, name)
      continue
    }
    if (c.puller && mountNamesOf(c).has(name)) {
      markUsed(volumes, name)
      continue
    }
    mounts.set(path, { name, subPath: false })
    mountNamesOf(c).add(name)
    c.addedMounts.push({ ...mount, name })
    markUsed(volumes, name)
  }
}

const markUsed = (volumes: VolumeSet, name: string) => {
  const v = volumes.byName.get(name)
  if (v !== undefined) v.used = true
}

/** A puller init container is already there when one has the same image, command and env values. */
const sameInitContainer = (existing: JsonObject, planned: JsonObject): boolean => {
  if (existing["image"] !== planned["image"] || !sameJson(existing["command"], planned["command"])) return false
  const env = asArray(existing["env"])
  return asArray(planned["env"]).every((want) => env.some((have) => sameJson(have, want)))
}

/**
 * recognisePullers: the AddInitContainer edits an existing init container already satisfies (an earlier pass), and
 * marks those containers as pullers. Indexed by image and command, then by first env entry (pullers with env of
 * their own keep it first), so that a Pod with many pullers is not compared pairwise.
 */
const NoPullers: ReadonlySet<PodEdit> = new Set()

const recognisePullers = (initContainers: ReadonlyArray<ContainerState>, edits: ReadonlyArray<PodEdit>): ReadonlySet<PodEdit> => {
  if (!edits.some((e) => e._tag === "AddInitContainer")) return NoPullers
  const known = new Set<PodEdit>()
  const keyOf = (c: JsonObject) => `${String(c["image"])}\u0000${JSON.stringify(c["command"])}`
  const firstEnv = (c: JsonObject) => JSON.stringify(asArray(c["env"])[0])
  const byKey = new Map<string, { readonly all: Array<ContainerState>; readonly byEnv: Map<string, Array<ContainerState>> }>()
  for (const c of initContainers) {
    const key = keyOf(c.original)
    const bucket = byKey.get(key) ?? { all: new Array<ContainerState>(), byEnv: new Map<string, Array<ContainerState>>() }
    byKey.set(key, bucket)
    bucket.all.push(c)
    const env = firstEnv(c.original)
    const sameEnvFirst = bucket.byEnv.get(env) ?? []
    sameEnvFirst.push(c)
    bucket.byEnv.set(env, sameEnvFirst)
  }
  for (const edit of edits) {
    if (edit._tag !== "AddInitContainer") continue
    const bucket = byKey.get(keyOf(edit.container))
    const candidates = asArray(edit.container["env"]).length === 0 ? bucket?.all : bucket?.byEnv.get(firstEnv(edit.container))
    const match = (candidates ?? []).find((c) => sameInitContainer(c.original, edit.container))
    if (match !== undefined) {
      match.puller = true
      known.add(edit)
    }
  }
  return known
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
