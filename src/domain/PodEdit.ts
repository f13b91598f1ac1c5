/**
 * PodEdit: one additive change a secret manager asks for, described as data.
 *
 * Managers never touch a Pod: they return an ordered list of edits, and the Patcher applies a whole plan of
 * them to the raw object as minimal RFC 6902 ops. Every edit only adds; existing fields always win:
 * - AddEnv: to every container and init container that has no env var of that name.
 * - AddMount: to every container and init container that has nothing mounted at that path (a Pod's volume of the
 *   same Secret there serves it and gets the items; a puller that already mounts the volume is left alone).
 * - AddVolume: one volume per source (per Kubernetes Secret for `secret` volumes, items merged), under the name
 *   asked for unless that name is taken by a volume that is not ours, then `<name>-1`, ... (VolumeNames).
 * - AddInitContainer: appended after the existing init containers, named `namePrefix + <index>`, unless an
 *   init container with the same image, command and env already exists (idempotency).
 * - AddAnnotations: each key absent from the Pod.
 * - ExpectFile: no change; a promise the plan is checked against (docs/flyte-compat.md, "Never a silently missing
 *   secret"): after the patch, every container and init container of the Pod sees `file` through `mountPath`, from
 *   `volume` (from `key` of it, for a `secret` volume); with no `volume`, something outside the Pod writes the file
 *   (the Vault agent) and no mount of the Pod may hide it.
 * AddEnv and ExpectFile carry the name of the secret they serve (`secret`), so that whatever keeps one from holding
 * is reported against that secret: an env var of the same name the Pod sets itself, a mount in the way.
 */

/** A JSON object as it comes off the wire. */
export type JsonObject = { readonly [key: string]: unknown }

/** EnvVar is a container env entry: a literal value or a `valueFrom` reference. */
export interface EnvVar {
  readonly name: string
  readonly value?: string
  readonly valueFrom?: JsonObject
}

/** VolumeMount is a container volume mount. */
export interface VolumeMount {
  readonly name: string
  readonly mountPath: string
  readonly readOnly?: boolean
}

/** Volume is a pod volume; `secret` volumes are merged by `secretName`. */
export interface Volume {
  readonly name: string
  readonly [source: string]: unknown
}

export type PodEdit =
  | { readonly _tag: "AddEnv"; readonly env: EnvVar; readonly secret?: string }
  | { readonly _tag: "AddMount"; readonly mount: VolumeMount }
  | { readonly _tag: "AddVolume"; readonly volume: Volume }
  | { readonly _tag: "AddInitContainer"; readonly namePrefix: string; readonly container: JsonObject }
  | { readonly _tag: "AddAnnotations"; readonly annotations: Readonly<Record<string, string>> }
  | {
    readonly _tag: "ExpectFile"
    readonly file: string
    readonly mountPath: string
    readonly volume?: string
    readonly key?: string
    readonly secret?: string
  }

/** Constructors, so managers read as the spec's table. */
export const addEnv = (name: string, value: string): PodEdit => ({ _tag: "AddEnv", env: { name, value } })
export const addEnvFrom = (name: string, valueFrom: JsonObject): PodEdit => ({
  _tag: "AddEnv",
  env: { name, valueFrom }
})
export const addMount = (mount: VolumeMount): PodEdit => ({ _tag: "AddMount", mount })
export const addVolume = (volume: Volume): PodEdit => ({ _tag: "AddVolume", volume })
export const addInitContainer = (namePrefix: string, container: JsonObject): PodEdit => ({
  _tag: "AddInitContainer",
  namePrefix,
  container
})
export const addAnnotations = (annotations: Readonly<Record<string, string>>): PodEdit => ({
  _tag: "AddAnnotations",
  annotations
})
export const expectFile = (expectation: { readonly file: string; readonly mountPath: string; readonly volume?: string; readonly key?: string }): PodEdit => ({
  _tag: "ExpectFile",
  ...expectation
})

/** forSecret names the secret that AddEnv and ExpectFile edits serve (the Mutator does it for each resolved secret). */
export const forSecret = (edits: ReadonlyArray<PodEdit>, secret: string): Array<PodEdit> =>
  edits.map((edit) => (edit._tag === "AddEnv" || edit._tag === "ExpectFile" ? { ...edit, secret } : edit))
