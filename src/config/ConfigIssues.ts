/**
 * ConfigIssues: turns a failed decode of the config file (a SchemaIssue tree) into one line per mistake, each
 * naming its dotted key: `webhook.listenPort: expected an integer from 0 to 65535, got "abc"`, and for a key
 * the section does not have, the closest one it does: `webhook.secretManagerTyp: unknown key (did you mean
 * secretManagerType?)`.
 */
import { SchemaAST, type SchemaIssue } from "effect"

/** ConfigProblem: one mistake: its dotted key and the whole line. */
export interface ConfigProblem {
  readonly key: string
  readonly message: string
}

/** dottedKey: `webhook.vaultSecretManager.annotations["vault.hashicorp.com/role"]`, `webhook.extraSANs[1]`. */
export const dottedKey = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>((key, segment) => {
    if (typeof segment === "number") return `${key}[${segment}]`
    const name = String(segment)
    if (/^[A-Za-z0-9_-]+$/.test(name)) return key === "" ? name : `${key}.${name}`
    return `${key}[${JSON.stringify(name)}]`
  }, "")

/**
 * editDistance: optimal string alignment distance (insertions, deletions, substitutions and swaps of two
 * neighbours each cost 1), case-insensitive: a key differing only in case is distance 0.
 */
export const editDistance = (a: string, b: string): number => {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  const d: Array<Array<number>> = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  const at = (i: number, j: number) => d[i]?.[j] ?? 0
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost)
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1)
      const row = d[i]
      if (row !== undefined) row[j] = best
    }
  }
  return at(x.length, y.length)
}

/**
 * closestKey: the known key nearest to `key`, when it is near enough to be a likely typo: one edit per four
 * characters (at least one), and only a difference of case for keys of three characters or fewer (`gpu` is
 * not a misspelt `cpu`).
 */
export const closestKey = (key: string, known: ReadonlyArray<string>): string | undefined => {
  let best: { readonly name: string; readonly distance: number } | undefined
  for (const name of known) {
    const distance = editDistance(key, name)
    if (best === undefined || distance < best.distance) best = { name, distance }
  }
  const allowed = key.length <= 3 ? 0 : Math.max(1, Math.floor(key.length / 4))
  return best !== undefined && best.distance <= allowed ? best.name : undefined
}

const knownKeys = (ast: SchemaAST.AST): ReadonlyArray<string> =>
  SchemaAST.isObjects(ast) ? ast.propertySignatures.map((p) => String(p.name)) : []

const unknownKey = (key: string, known: ReadonlyArray<string>): string => {
  const near = closestKey(key, known)
  if (near !== undefined) return `unknown key (did you mean ${near}?)`
  return known.length <= 8 ? `unknown key (known keys: ${known.join(", ")})` : "unknown key (see the README's configuration reference)"
}

const leafMessage = (issue: SchemaIssue.Issue): string => {
  switch (issue._tag) {
    case "InvalidValue":
    case "Forbidden":
      return issue.annotations?.["message"] !== undefined ? String(issue.annotations["message"]) : "invalid value"
    case "MissingKey":
      return "missing"
    case "InvalidType":
      return `expected ${SchemaAST.isObjects(issue.ast) ? "a mapping" : issue.ast._tag.toLowerCase()}`
    default:
      return "invalid value"
  }
}

/** problems: every mistake in the issue tree, in the order the file's keys were read. */
export const problems = (issue: SchemaIssue.Issue): ReadonlyArray<ConfigProblem> => {
  const out: Array<ConfigProblem> = []
  const walk = (node: SchemaIssue.Issue, path: ReadonlyArray<PropertyKey>): void => {
    switch (node._tag) {
      case "Pointer":
        return walk(node.issue, [...path, ...node.path])
      case "Composite":
      case "AnyOf":
        return node.issues.forEach((child) => walk(child, path))
      case "Filter":
      case "Encoding":
        return walk(node.issue, path)
      case "UnexpectedKey": {
        const key = dottedKey(path)
        return void out.push({ key, message: `${key}: ${unknownKey(String(path.at(-1)), knownKeys(node.ast))}` })
      }
      default: {
        const key = dottedKey(path)
        return void out.push({ key: key === "" ? "<root>" : key, message: `${key === "" ? "<root>" : key}: ${leafMessage(node)}` })
      }
    }
  }
  walk(issue, [])
  return out
}
