/**
 * ConfigReader: typed reads from a parsed YAML document that fail with the dotted key and what was expected.
 *
 * Flyte's config is loose YAML written by people; every mistake must name the key, the expected shape and
 * what was found, e.g. `webhook.listenPort: expected an integer from 1 to 65535, got "abc"`.
 */
import { Data } from "effect"

/** ConfigError: a config file or value that cannot be used. `key` is dotted (`webhook.listenPort`). */
export class ConfigError extends Data.TaggedError("ConfigError")<{
  readonly key: string
  readonly message: string
}> {}

export type Node = { readonly [key: string]: unknown }

const show = (value: unknown): string => {
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text
}

const fail = (key: string, expected: string, got: unknown): never => {
  throw new ConfigError({ key, message: `${key}: expected ${expected}, got ${show(got)}` })
}

export const isNode = (value: unknown): value is Node =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** section reads a nested mapping; absent or null is an empty mapping. */
export const section = (node: Node, name: string, key: string): Node => {
  const value = node[name]
  if (value === undefined || value === null) return {}
  return isNode(value) ? value : fail(key, "a mapping", value)
}

export const string = (node: Node, name: string, key: string, fallback: string): string => {
  const value = node[name]
  if (value === undefined || value === null) return fallback
  if (typeof value === "string") return value
  if (typeof value === "number" || typeof value === "boolean") return String(value)
  return fail(key, "a string", value)
}

export const optionalString = (node: Node, name: string, key: string): string | undefined => {
  const value = node[name]
  return value === undefined || value === null || value === "" ? undefined : string(node, name, key, "")
}

export const boolean = (node: Node, name: string, key: string, fallback: boolean): boolean => {
  const value = node[name]
  if (value === undefined || value === null) return fallback
  if (typeof value === "boolean") return value
  if (value === "true" || value === "false") return value === "true"
  return fail(key, "true or false", value)
}

export const integer = (
  node: Node,
  name: string,
  key: string,
  fallback: number,
  range: { readonly min: number; readonly max: number }
): number => {
  const value = node[name]
  if (value === undefined || value === null) return fallback
  const parsed = typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : value
  if (typeof parsed === "number" && Number.isInteger(parsed) && parsed >= range.min && parsed <= range.max) {
    return parsed
  }
  return fail(key, `an integer from ${range.min} to ${range.max}`, value)
}

/** seconds reads a duration in seconds: a number, or a string like `5s`, `1500ms`, `2m`. */
export const seconds = (node: Node, name: string, key: string, fallback: number): number => {
  const value = node[name]
  if (value === undefined || value === null) return fallback
  if (typeof value === "number" && Number.isFinite(value) && value >= 0) return value
  if (typeof value === "string") {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(value)
    if (match !== null) {
      const amount = Number(match[1])
      const unit = match[2] ?? "s"
      return unit === "ms" ? amount / 1000 : unit === "m" ? amount * 60 : unit === "h" ? amount * 3600 : amount
    }
  }
  return fail(key, "a duration such as 5, \"5s\", \"1500ms\" or \"2m\"", value)
}

export const oneOf = <const A extends string>(
  node: Node,
  name: string,
  key: string,
  fallback: A,
  choices: ReadonlyArray<A>
): A => {
  const value = node[name]
  if (value === undefined || value === null) return fallback
  const text = typeof value === "number" ? String(value) : value
  const found = typeof text === "string" ? choices.find((c) => c.toLowerCase() === text.toLowerCase()) : undefined
  return found ?? fail(key, `one of ${choices.join(", ")}`, value)
}

export const stringList = (node: Node, name: string, key: string, fallback: ReadonlyArray<string>) => {
  const value = node[name]
  if (value === undefined || value === null) return fallback
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value as ReadonlyArray<string>
  return fail(key, "a list of strings", value)
}

export const stringMap = (node: Node, name: string, key: string): Readonly<Record<string, string>> => {
  const value = node[name]
  if (value === undefined || value === null) return {}
  if (!isNode(value)) return fail(key, "a mapping of strings", value)
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === "string") out[k] = v
    else if (typeof v === "number" || typeof v === "boolean") out[k] = String(v)
    else fail(`${key}.${k}`, "a string", v)
  }
  return out
}

/** object reads a free-form mapping (Kubernetes objects such as resources or a label selector). */
export const object = (node: Node, name: string, key: string): Node | undefined => {
  const value = node[name]
  if (value === undefined || value === null) return undefined
  return isNode(value) ? value : fail(key, "a mapping", value)
}
