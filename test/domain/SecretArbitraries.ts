/**
 * SecretArbitraries: fast-check generators for the annotation codec tests.
 *
 * `secretRequest` draws SecretRequests whose strings stress the text format (quotes, backslashes, newlines,
 * control bytes, non-ASCII, astral code points). `lenientText` spells a given secret the way other producers
 * may (any field order, explicit defaults, single or double quotes, every escape form, concatenated pieces,
 * comments, `;`/`,` separators, enum numbers in Go's integer syntax), so one property covers the reader's
 * whole accepted language.
 */
import * as fc from "fast-check"
import { MountRequirements, type SecretRequest } from "../../src/domain/SecretRequest.ts"

const tricky = ["\"", "'", "\\", "\n", "\r", "\t", "\u0000", "\u0007", "\u007f", "\u0085", "é", "😀", "#", ":", ";", "{", "]", " ", "a", "?"]

/** fieldText: strings a Secret field may hold (any well-formed Unicode, weighted towards awkward characters). */
export const fieldText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: fc.constantFrom(...tricky), maxLength: 16 }),
  fc.string({ unit: "binary", maxLength: 16 }),
  fc.string({ unit: "binary-ascii", maxLength: 16 }),
  fc.constantFrom("", "db-creds", "password", "v1", "MY_ENV")
)

/** secretRequest: any SecretRequest. */
export const secretRequest: fc.Arbitrary<SecretRequest> = fc.record({
  group: fieldText,
  groupVersion: fieldText,
  key: fieldText,
  mountRequirement: fc.constantFrom(...MountRequirements),
  envVar: fieldText
})

type Pick = fc.GeneratorValue

const space = (g: Pick): string => g(fc.constantFrom, "", " ", "\n", "\t", "\r\n", "  # note: \"'{[\n")
const someSpace = (g: Pick): string => g(fc.constantFrom, " ", "\n", "\t", " # c\n")

const SimpleEscapes: Readonly<Record<string, string>> = {
  "\u0007": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\u000b": "\\v",
  "?": "\\?", "'": "\\'", "\"": "\\\"", "\\": "\\\\"
}

const hex = (n: number, width: number) => n.toString(16).padStart(width, "0")

/** spellings lists every way v1 lets one character be written inside a string quoted with `quote`. */
const spellings = (char: string, quote: string): Array<string> => {
  const code = char.codePointAt(0)!
  const bytes = [...new TextEncoder().encode(char)]
  const out = [
    bytes.map((b) => `\\${b.toString(8).padStart(3, "0")}`).join(""),
    bytes.map((b, i) => `\\${i % 2 === 0 ? "x" : "X"}${hex(b, 2)}`).join(""),
    `\\U${hex(code, 8).toUpperCase()}`
  ]
  if (char !== quote && char !== "\\" && char !== "\n") out.push(char)
  if (SimpleEscapes[char] !== undefined) out.push(SimpleEscapes[char])
  if (code <= 0xffff) out.push(`\\u${hex(code, 4)}`)
  return out
}

const quoted = (value: string, g: Pick): string => {
  let quote = g(fc.constantFrom, "\"", "'")
  let out = quote
  for (const char of value) {
    if (g(fc.integer, { min: 0, max: 7 }) === 0) {
      const next = g(fc.constantFrom, "\"", "'")
      out += `${quote}${space(g)}${next}` // close, optional space or comment, reopen: adjacent strings concatenate
      quote = next
    }
    out += g(fc.constantFrom, ...spellings(char, quote))
  }
  return out + quote
}

const enumSpellings = (index: number, name: string): Array<string> =>
  [name, `${index}`, `+${index}`, `0x${index}`, `0X${index}`, `0${index}`, `0o${index}`, `0b${index.toString(2)}`]

/** lenientText: a random valid spelling of the secret in text format. */
export const lenientText = (secret: SecretRequest): fc.Arbitrary<string> =>
  fc.gen().map((g) => {
    const fields: Array<readonly [string, string]> = [
      ["group", secret.group],
      ["group_version", secret.groupVersion],
      ["key", secret.key],
      ["mount_requirement", secret.mountRequirement],
      ["env_var", secret.envVar]
    ]
    let out = space(g)
    for (const [name, value] of g(fc.shuffledSubarray, fields, { minLength: fields.length })) {
      const isDefault = value === "" || value === "ANY"
      if (isDefault && g(fc.boolean)) continue
      const rendered = name === "mount_requirement"
        ? `${g(fc.constantFrom, ...enumSpellings(MountRequirements.indexOf(value as never), value))}${someSpace(g)}`
        : quoted(value, g)
      out += `${name}${space(g)}:${space(g)}${rendered}${space(g)}${g(fc.constantFrom, "", ";", ",")}${space(g)}`
    }
    return out
  })
