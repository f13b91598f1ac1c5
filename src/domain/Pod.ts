/**
 * Pod: the few Pod fields the engine reads, read straight off the raw object as the API server sent it.
 *
 * Deliberately not a decoded, re-encoded Pod: a typed Pod re-serialised drops every field its schema does not
 * know (the trap vault-k8s avoids with hand-built patches), and decoding the whole review cost ~10% of
 * throughput (docs/serve.md). Everything else in the object is left as it is; the Patcher only appends to it.
 */
import type { JsonObject } from "./PodEdit.ts"

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** asObject: the value when it is a JSON object, else an empty one (a missing or malformed field reads as empty). */
export const asObject = (value: unknown): JsonObject => (isObject(value) ? value : {})

/** asArray: the value when it is an array, else an empty one. */
export const asArray = (value: unknown): ReadonlyArray<unknown> => (Array.isArray(value) ? value : [])

const allStrings = (value: JsonObject): boolean => {
  for (const k in value) if (typeof value[k] !== "string") return false
  return true
}

/** stringMap: the string-valued entries of a map such as labels or annotations. */
export const stringMap = (value: unknown): Readonly<Record<string, string>> => {
  if (!isObject(value)) return {}
  // The usual case, every value a string (the API server decoded the Pod into map[string]string): the map itself,
  // read-only, not a copy.
  if (allStrings(value)) return value as Readonly<Record<string, string>>
  const out: Record<string, string> = {}
  // A plain loop: Object.entries allocates a pair per entry, on every Pod (docs/serve.md, "Where the time goes").
  for (const k of Object.keys(value)) {
    const v = value[k]
    if (typeof v === "string") out[k] = v
  }
  return out
}

const text = (value: unknown): string => (typeof value === "string" ? value : "")

const metadataOf = (pod: unknown): JsonObject => asObject(asObject(pod)["metadata"])

/** PodIdentity: who a Pod is, for logs and metrics. */
export interface PodIdentity {
  /** The object's namespace; empty for controller-made Pods (the request's namespace applies then). */
  readonly namespace: string
  /** The name, or `<generateName>*` for controller-made Pods whose name is not chosen yet. */
  readonly name: string
}

export const podIdentity = (pod: unknown): PodIdentity => {
  const metadata = metadataOf(pod)
  const name = text(metadata["name"])
  const generateName = text(metadata["generateName"])
  return { namespace: text(metadata["namespace"]), name: name !== "" ? name : generateName !== "" ? `${generateName}*` : "" }
}

/** podLabel: one label's value when it is a string (read in place: most Pods are not ours, so copy nothing). */
export const podLabel = (pod: unknown, key: string): string | undefined => {
  const value = asObject(metadataOf(pod)["labels"])[key]
  return typeof value === "string" ? value : undefined
}

/** podAnnotations: the string-valued annotations. */
export const podAnnotations = (pod: unknown): Readonly<Record<string, string>> => stringMap(metadataOf(pod)["annotations"])
