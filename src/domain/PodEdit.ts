/**
 * PodEdit: one additive change a secret manager asks for, described as data.
 *
 * Managers never touch a Pod: they return an ordered list of edits, and the Patcher applies a whole plan of
 * them to the raw object as minimal RFC 6902 ops. Every edit only adds; existing fields always win:
 * - AddEnv: to every container and init container that has no env var of that name.
 * - AddMount: to every container and init container that has no mount of that volume name.
 * - AddVolume: unless a volume of that name exists. A `secret` volume whose `secretName` is already used by
 *   a volume merges its items into that volume instead (one volume per Kubernetes Secret).
 * - AddInitContainer: appended after the existing init containers, named `namePrefix + <index>`, unless an
 *   init container with the same image, command and env already exists (idempotency).
 * - AddAnnotations: each key absent from the Pod.
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
  | { readonly _tag: "AddEnv"; readonly env: EnvVar }
  | { readonly _tag: "AddMount"; readonly mount: VolumeMount }
  | { readonly _tag: "AddVolume"; readonly volume: Volume }
  | { readonly _tag: "AddInitContainer"; readonly namePrefix: string; readonly container: JsonObject }
  | { readonly _tag: "AddAnnotations"; readonly annotations: Readonly<Record<string, string>> }

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
