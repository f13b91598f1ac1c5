/**
 * TextDocument (src/config/TextDocument.ts): one JSON or YAML document from what a user gave, with errors that
 * name the format that failed and where, and never quote the input.
 */
import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import { parseBytes, parseDocument } from "../../src/config/TextDocument.ts"

const reasonOf = (result: Result.Result<unknown, { readonly reason: string; readonly format: string | undefined }>) => {
  if (Result.isSuccess(result)) throw new Error("expected a failure")
  return result.failure
}
const bytes = (text: string) => new TextEncoder().encode(text)

describe("TextDocument", () => {
  it("JSON by name or by its first character, YAML otherwise", () => {
    assert.deepStrictEqual(parseDocument('{"kind":"Pod"}'), Result.succeed({ format: "JSON", value: { kind: "Pod" } }))
    assert.deepStrictEqual(parseDocument("kind: Pod\n"), Result.succeed({ format: "YAML", value: { kind: "Pod" } }))
    assert.deepStrictEqual(parseDocument("{kind: Pod}", "pod.yaml"), Result.succeed({ format: "YAML", value: { kind: "Pod" } }))
    assert.strictEqual(reasonOf(parseDocument("kind: Pod\n", "pod.json")).format, "JSON")
  })

  it.each([
    ['{"metadata": {"name": "x"},\n "spec": {"containers": [}}', "is not valid JSON: Unexpected token ']'"],
    ['{"env": [{"name": "PASSWORD", "value": "hunter2"}', "is not valid JSON: Expected ',' or ']' after array element at line 1, column 50"],
    ['{"value": "hunter2" "x"}', "is not valid JSON: Expected ',' or '}' after property value at line 1, column 21"],
    ['{"value": hunter2}', "is not valid JSON: an unexpected token where a JSON value was expected"]
  ])("malformed JSON %j names JSON and the place, not the content", (text, reason) => {
    const failure = reasonOf(parseDocument(text))
    assert.strictEqual(failure.format, "JSON")
    assert.include(reason, "is not valid JSON")
    if (!reason.startsWith("is not valid JSON: Unexpected token")) assert.strictEqual(failure.reason, reason)
    assert.notInclude(failure.reason, "hunter2")
    assert.notInclude(failure.reason, "containers")
  })

  it.each([
    ["spec: [unclosed\n", "is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 2, column 1"],
    ["env:\n  secret: hunter2\n  secret: again\n", "is not valid YAML: Map keys must be unique at line 3, column 3"],
    ["kind: Pod\n---\nkind: Pod\n", "holds 2 YAML documents (separated by ---); expected one"],
    ["a: *nope\n", "is not valid YAML: an alias (*name) refers to no anchor"]
  ])("malformed YAML %j names YAML and the place, not the content", (text, reason) => {
    const failure = reasonOf(parseDocument(text))
    assert.strictEqual(failure.format, "YAML")
    assert.strictEqual(failure.reason, reason)
    assert.notInclude(failure.reason, "hunter2")
  })

  it("empty text, only comments, or an empty document separator: no document", () => {
    for (const text of ["", "  \n", "# nothing\n", "---\n"]) {
      assert.isUndefined(Result.getOrThrow(parseDocument(text)).value, JSON.stringify(text))
    }
  })

  it("binary input is refused by what it is, never quoted", () => {
    const binary = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x00, 0x68, 0x75, 0x6e])
    assert.strictEqual(reasonOf(parseBytes(binary)).reason, "is binary data (a NUL byte at offset 6), not JSON or YAML text")
    assert.strictEqual(reasonOf(parseBytes(new Uint8Array([0x6b, 0x3a, 0x20, 0xff, 0xfe]))).reason,
      "is binary data (bytes that are not UTF-8), not JSON or YAML text")
    assert.deepStrictEqual(Result.getOrThrow(parseBytes(bytes("\uFEFFkind: Pod\n"))).value, { kind: "Pod" })
  })
})
