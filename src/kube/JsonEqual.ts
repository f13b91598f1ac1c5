/**
 * JsonEqual: structural equality of API objects as JSON sees them (a key holding `undefined` is the same as an
 * absent key, key order does not matter, array order does). Used to skip writes whose content the API server
 * already has, and by the fake API server to decide whether a write changes the object.
 */

export const jsonEqual = (a: unknown, b: unknown): boolean => {
  if (a === b) return true
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false
    return a.every((item, index) => jsonEqual(item, b[index]))
  }
  const left = a as Record<string, unknown>
  const right = b as Record<string, unknown>
  const keys = new Set([...Object.keys(left), ...Object.keys(right)])
  for (const key of keys) {
    if (!jsonEqual(left[key], right[key])) return false
  }
  return true
}
