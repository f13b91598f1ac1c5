/**
 * ProtoText: the protobuf text format of `flyteidl.core.Secret`, read and written as Flyte does.
 *
 * Flyte writes annotations with `proto.MarshalTextString` and reads them with `proto.UnmarshalText`, both from
 * github.com/golang/protobuf (flytepropeller `pkg/utils/secrets/marshaler.go`). Since v1.4 those are NOT the
 * prototext package: they keep the v1 `textParser` and `textWriter` (proto/text_decode.go, text_encode.go).
 * This module follows those two, byte for byte where it matters (tokens and escapes: ProtoTextLexer):
 * - whitespace and `#` comments anywhere between tokens; strings in `"` or `'`; adjacent strings concatenated;
 * - fields by their proto name only (`group`, `group_version`, `key`, `mount_requirement`, `env_var`); the `:`
 *   is required (every Secret field is a scalar); each field may be followed by one `;` or `,`; a field given
 *   twice is an error (`non-repeated field "key" was repeated`);
 * - enums by name (`ENV_VAR`) or by number in Go's `strconv.ParseInt(s, 0, 32)` syntax (`1`, `0x1`, `01`, `+1`).
 * Ours, deliberately different:
 * - unknown fields (plain names, `[extension]` or `[type/url]` names) are skipped and listed, where Flyte fails.
 *   A skipped value is a scalar, or a `{...}`, `<...>` or `[...]` group that is tokenised and bracket-matched
 *   (a `:` before it is optional);
 * - an enum number other than 0, 1, 2 is an error here (Go stores it and Flyte fails later, at injection);
 * - a string field must be valid UTF-8 after unescaping (Go would carry the raw bytes into Pod fields).
 * The writer is v1's: fields in declaration order, defaults (empty string, ANY) omitted, one `name: value\n`
 * per field, strings in `"` with `\n \r \t \" \\` escaped and every other byte outside 0x20-0x7e written as
 * 3-digit octal, so the text is always ASCII (UTF-8 is escaped byte by byte, as v1 does).
 * Parsing is one left-to-right pass without backtracking: linear in the input.
 */
import { Data, Result } from "effect"
import { fail, Lexer, LexFailure, parseGoInt32, type Token } from "./ProtoTextLexer.ts"
import { makeSecretRequest, type MountRequirement, MountRequirements, type SecretRequest } from "./SecretRequest.ts"

/** SecretMessageName is the protobuf message this module reads and writes. */
export const SecretMessageName = "flyteidl.core.Secret"

/** ProtoTextError: the text is not a valid Secret. `offset` is a byte offset; line and column count from 1,
 *  the column in characters. `message` is `line L, column C: <reason>`. */
export class ProtoTextError extends Data.TaggedError("ProtoTextError")<{
  readonly reason: string
  readonly offset: number
  readonly line: number
  readonly column: number
  readonly message: string
}> {}

/** ProtoTextDecoded: the secret, the unknown field names that were skipped, and a warning naming them. */
export interface ProtoTextDecoded {
  readonly secret: SecretRequest
  readonly unknownFields: ReadonlyArray<string>
  readonly warnings: ReadonlyArray<string>
}

type FieldProp = "group" | "groupVersion" | "key" | "mountRequirement" | "envVar"
/** Fields in declaration (= writing) order: proto name and SecretRequest property. */
const Fields: ReadonlyArray<readonly [name: string, prop: FieldProp]> = [
  ["group", "group"],
  ["group_version", "groupVersion"],
  ["key", "key"],
  ["mount_requirement", "mountRequirement"],
  ["env_var", "envVar"]
]
const FieldsByName: ReadonlyMap<string, FieldProp> = new Map(Fields)

const utf8Encoder = new TextEncoder()
const utf8Strict = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

// ---- parser ------------------------------------------------------------------------------------------------

const isSymbolToken = (token: Token, text: string) => token.kind === "symbol" && token.text === text
const Closers: ReadonlyMap<string, string> = new Map([["{", "}"], ["<", ">"], ["[", "]"]])

/** skipNested skips a `{...}`, `<...>` or `[...]` value: tokenised, brackets matched, content not checked. */
const skipNested = (lexer: Lexer, open: Token): void => {
  const opened: Array<Token> = [open]
  while (opened.length > 0) {
    const token = lexer.next()
    const innermost = opened[opened.length - 1]!
    if (token.kind === "eof") fail(innermost.start, `${lexer.show(innermost)} is never closed`)
    if (token.kind !== "symbol") continue
    if (Closers.has(token.text)) opened.push(token)
    else if (token.text === "}" || token.text === ">" || token.text === "]") {
      const expected = Closers.get(innermost.text)!
      if (token.text !== expected) {
        fail(token.start, `expected "${expected}" to close ${lexer.show(innermost)}, found ${lexer.show(token)}`)
      }
      opened.pop()
    }
  }
}

/** skipUnknownValue skips the value of an unknown field (ours: Flyte fails on unknown fields). */
const skipUnknownValue = (lexer: Lexer, name: string): void => {
  let token = lexer.next()
  if (isSymbolToken(token, ":")) token = lexer.next()
  if (token.kind === "symbol" && Closers.has(token.text)) skipNested(lexer, token)
  else if (token.kind !== "word" && token.kind !== "string") {
    fail(token.start, `missing value for unknown field ${JSON.stringify(name)}: found ${lexer.show(token)}`)
  }
  lexer.optionalSeparator()
}

/** bracketName reads an `[extension.name]` or `[type.url/Name]` field name after its `[`. */
const bracketName = (lexer: Lexer, open: Token): string => {
  const parts: Array<string> = []
  for (let token = lexer.next(); !isSymbolToken(token, "]"); token = lexer.next()) {
    if (token.kind === "eof") fail(open.start, "unclosed extension or type URL name")
    parts.push(lexer.raw(token))
  }
  if (parts.length === 0) fail(open.start, "empty extension name \"[]\"")
  return `[${parts.join("")}]`
}

const stringValue = (lexer: Lexer, name: string, token: Token): string => {
  if (token.kind !== "string") {
    const found = lexer.show(token)
    return fail(token.start, `invalid value for string field "${name}": ${found} (expected a quoted string)`)
  }
  try {
    return utf8Strict.decode(token.bytes)
  } catch {
    return fail(token.start, `string value of field "${name}" is not valid UTF-8`)
  }
}

const enumValue = (lexer: Lexer, name: string, token: Token): MountRequirement => {
  const expected = "expected ANY, ENV_VAR, FILE or their numbers 0, 1, 2"
  if (token.kind === "word") {
    const number = parseGoInt32(token.text)
    if (number !== undefined) {
      return MountRequirements[number] ?? fail(token.start, `${name} ${number} is out of range (${expected})`)
    }
    const named = MountRequirements.find((m) => m === token.text)
    if (named !== undefined) return named
  }
  return fail(token.start, `invalid value for enum field "${name}": ${lexer.show(token)} (${expected})`)
}

/** parseFields is the v1 textParser's unmarshalMessage for a top-level Secret (terminator: end of input). */
const parseFields = (lexer: Lexer, fields: Record<FieldProp, string>, unknown: Set<string>): void => {
  const seen = new Set<FieldProp>()
  for (let token = lexer.next(); token.kind !== "eof"; token = lexer.next()) {
    if (isSymbolToken(token, "[")) {
      const name = bracketName(lexer, token)
      skipUnknownValue(lexer, name)
      unknown.add(name)
      continue
    }
    if (token.kind !== "word") fail(token.start, `expected a field name, found ${lexer.show(token)}`)
    const name = token.text
    const prop = FieldsByName.get(name)
    if (prop === undefined) {
      skipUnknownValue(lexer, name)
      unknown.add(name)
      continue
    }
    if (seen.has(prop)) fail(token.start, `non-repeated field "${name}" was repeated`)
    seen.add(prop)
    const colon = lexer.next()
    if (!isSymbolToken(colon, ":")) fail(colon.start, `expected ':' after field "${name}", found ${lexer.show(colon)}`)
    const value = lexer.next()
    if (value.kind === "eof") fail(value.start, `missing value for field "${name}": unexpected end of input`)
    fields[prop] = prop === "mountRequirement" ? enumValue(lexer, name, value) : stringValue(lexer, name, value)
    lexer.optionalSeparator()
  }
}

/** locate turns a byte offset into a 1-based line and a 1-based column counted in characters. */
const locate = (input: Uint8Array, offset: number): { line: number; column: number } => {
  let line = 1
  let lineStart = 0
  for (let i = 0; i < offset; i++) {
    if (input[i] === 0x0a) {
      line++
      lineStart = i + 1
    }
  }
  let column = 1
  for (let i = lineStart; i < offset; i++) if ((input[i]! & 0xc0) !== 0x80) column++
  return { line, column }
}

const shortName = (name: string): string => (name.length > 64 ? `${name.slice(0, 64)}...` : name)

/** unknownFieldsWarning names the skipped fields (at most 10, each cut at 64 characters: warnings stay short). */
const unknownFieldsWarning = (names: ReadonlyArray<string>): ReadonlyArray<string> => {
  if (names.length === 0) return []
  const shown = names.slice(0, 10).map(shortName).join(", ")
  const listed = names.length > 10 ? `${shown} and ${names.length - 10} more` : shown
  return [`ignored unknown field${names.length === 1 ? "" : "s"} of ${SecretMessageName}: ${listed}`]
}

/** decodeSecretText parses the text format of a Secret (UTF-8 bytes or a string). */
export const decodeSecretText = (text: Uint8Array | string): Result.Result<ProtoTextDecoded, ProtoTextError> => {
  const input = typeof text === "string" ? utf8Encoder.encode(text) : text
  const fields: Record<FieldProp, string> = {
    group: "",
    groupVersion: "",
    key: "",
    mountRequirement: "ANY",
    envVar: ""
  }
  const unknown = new Set<string>()
  try {
    parseFields(new Lexer(input), fields, unknown)
  } catch (error) {
    if (!(error instanceof LexFailure)) throw error
    const { line, column } = locate(input, error.offset)
    return Result.fail(
      new ProtoTextError({
        reason: error.reason,
        offset: error.offset,
        line,
        column,
        message: `line ${line}, column ${column}: ${error.reason}`
      })
    )
  }
  const secret = makeSecretRequest({ ...fields, mountRequirement: fields.mountRequirement as MountRequirement })
  const unknownFields = [...unknown]
  return Result.succeed({ secret, unknownFields, warnings: unknownFieldsWarning(unknownFields) })
}

// ---- writer ------------------------------------------------------------------------------------------------

/** quote is v1 `writeQuotedString`: byte-wise, octal for everything outside printable ASCII. */
const quote = (value: string): string => {
  const bytes = utf8Encoder.encode(value)
  let out = "\""
  for (const b of bytes) {
    if (b === 0x0a) out += "\\n"
    else if (b === 0x0d) out += "\\r"
    else if (b === 0x09) out += "\\t"
    else if (b === 0x22) out += "\\\""
    else if (b === 0x5c) out += "\\\\"
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b)
    else out += `\\${b.toString(8).padStart(3, "0")}`
  }
  return `${out}"`
}

/** encodeSecretText writes a Secret as `proto.MarshalTextString` does. A lone UTF-16 surrogate in a field
 *  (not representable in UTF-8) is written as U+FFFD. */
export const encodeSecretText = (secret: SecretRequest): string => {
  let out = ""
  for (const [name, prop] of Fields) {
    const value = secret[prop]
    if (prop === "mountRequirement") {
      if (value !== "ANY") out += `${name}: ${value}\n`
    } else if (value !== "") out += `${name}: ${quote(value)}\n`
  }
  return out
}
