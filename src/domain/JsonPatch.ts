/**
 * JsonPatch: the RFC 6902 operations we emit. We only ever add (we own no existing field), so the type
 * is `add` alone; pointers are built from tokens with RFC 6901 escaping (`~` → `~0`, `/` → `~1`).
 */

/** JsonPatchOp is one RFC 6902 `add`. A path ending in `/-` appends to an array. */
export interface JsonPatchOp {
  readonly op: "add"
  readonly path: string
  readonly value: unknown
}

/** escapeToken escapes one JSON Pointer reference token (RFC 6901 section 3). */
export const escapeToken = (token: string): string =>
  token.includes("~") || token.includes("/") ? token.replaceAll("~", "~0").replaceAll("/", "~1") : token

/** pointer joins reference tokens into a JSON Pointer. Numbers are array indexes; `-` appends. */
export const pointer = (...tokens: ReadonlyArray<string | number>): string => {
  let out = ""
  for (const t of tokens) out += `/${typeof t === "number" ? t : escapeToken(t)}`
  return out
}

/** add builds an `add` op. */
export const add = (path: string, value: unknown): JsonPatchOp => ({ op: "add", path, value })
