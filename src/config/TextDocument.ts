/**
 * TextDocument: one JSON or YAML document from bytes a user gave (a config file, a Pod for `mutate`), with
 * errors that name the format that failed and where, and never quote the input: a Pod's env values or a
 * stray binary file must not end up in a terminal or a CI log.
 *
 * The format: a `.json` name is JSON and `.yaml` / `.yml` is YAML; otherwise text starting with `{` or `[` is
 * JSON (what `kubectl get -o json` prints) and anything else YAML. JSON is read by V8's JSON.parse, YAML by the
 * `yaml` package (YAML 1.2, duplicate keys refused).
 */
import { Data, Result } from "effect"
import * as YAML from "yaml"

export type Format = "JSON" | "YAML"

/** DocumentError: the bytes are not one usable document; `reason` reads after the input's name. */
export class DocumentError extends Data.TaggedError("DocumentError")<{
  readonly format: Format | undefined
  readonly reason: string
}> {}

/** A document; `value` is undefined when the text holds none (empty, only comments, or YAML's null). */
export interface TextDocument {
  readonly format: Format
  readonly value: unknown
}

/** decodeText: the bytes as UTF-8 text (BOM dropped); binary data (a NUL byte, invalid UTF-8) is refused. */
export const decodeText = (bytes: Uint8Array): Result.Result<string, DocumentError> => {
  const nul = bytes.indexOf(0)
  if (nul >= 0) return Result.fail(binary(`a NUL byte at offset ${nul}`))
  try {
    return Result.succeed(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes))
  } catch {
    return Result.fail(binary("bytes that are not UTF-8"))
  }
}

const binary = (what: string) =>
  new DocumentError({ format: undefined, reason: `is binary data (${what}), not JSON or YAML text` })

/** formatOf: JSON or YAML, by the file name's extension, else by the first character. */
export const formatOf = (text: string, name?: string): Format => {
  if (name !== undefined && /\.json$/i.test(name)) return "JSON"
  if (name !== undefined && /\.ya?ml$/i.test(name)) return "YAML"
  return /^\s*[[{]/.test(text) ? "JSON" : "YAML"
}

// V8: "Expected ',' or '}' after property value in JSON at position 7 (line 1 column 8)". The other form,
// `Unexpected token 'x', "<the input>" is not valid JSON`, quotes the input and is replaced whole.
const V8_POSITION = /^(.*) in JSON at position \d+(?: \(line (\d+) column (\d+)\))?$/

const jsonReason = (message: string): string => {
  const at = V8_POSITION.exec(message)
  if (at !== null) return `${at[1]}${at[2] === undefined ? "" : ` at line ${at[2]}, column ${at[3]}`}`
  if (message.startsWith("Unexpected end of JSON input")) return "it ends before the document is complete"
  return "an unexpected token where a JSON value was expected"
}

const parseJson = (text: string): Result.Result<TextDocument, DocumentError> => {
  if (text.trim() === "") return Result.succeed({ format: "JSON", value: undefined })
  try {
    return Result.succeed({ format: "JSON", value: JSON.parse(text) as unknown })
  } catch (cause) {
    return Result.fail(new DocumentError({ format: "JSON", reason: `is not valid JSON: ${jsonReason(String((cause as Error).message))}` }))
  }
}

const parseYaml = (text: string): Result.Result<TextDocument, DocumentError> => {
  const lineCounter = new YAML.LineCounter()
  const documents = YAML.parseAllDocuments(text, { prettyErrors: false, lineCounter })
  const list = Array.isArray(documents) ? documents : []
  const withContent = list.filter((doc) => doc.contents !== null || doc.errors.length > 0)
  for (const doc of withContent) {
    const error = doc.errors[0]
    if (error === undefined) continue
    const { line, col } = lineCounter.linePos(error.pos[0])
    return Result.fail(new DocumentError({ format: "YAML", reason: `is not valid YAML: ${error.message} at line ${line}, column ${col}` }))
  }
  if (withContent.length > 1) {
    return Result.fail(new DocumentError({ format: "YAML", reason: `holds ${withContent.length} YAML documents (separated by ---); expected one` }))
  }
  const doc = withContent[0]
  if (doc === undefined) return Result.succeed({ format: "YAML", value: undefined })
  try {
    const value = doc.toJS({ maxAliasCount: 100 }) as unknown
    return Result.succeed({ format: "YAML", value: value === null ? undefined : value })
  } catch (cause) {
    // toJS names the alias it could not resolve; say what is wrong without quoting the input.
    const message = String((cause as Error).message)
    const reason = /alias count/i.test(message)
      ? "too many alias expansions (more than 100)"
      : /alias/i.test(message)
      ? "an alias (*name) refers to no anchor"
      : "it cannot be turned into a value"
    return Result.fail(new DocumentError({ format: "YAML", reason: `is not valid YAML: ${reason}` }))
  }
}

/** parseDocument: the text's one document (value undefined when there is none). */
export const parseDocument = (text: string, name?: string): Result.Result<TextDocument, DocumentError> =>
  formatOf(text, name) === "JSON" ? parseJson(text.replace(/^\uFEFF/, "")) : parseYaml(text)

/** parseBytes: decodeText then parseDocument. */
export const parseBytes = (bytes: Uint8Array, name?: string): Result.Result<TextDocument, DocumentError> =>
  Result.flatMap(decodeText(bytes), (text) => parseDocument(text, name))
