import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import * as fc from "fast-check"
import { decode, decodeString, encode, encodeString } from "../../src/domain/Base32.ts"

const bytes = (text: string) => new TextEncoder().encode(text)

const decodeOk = (text: string): Uint8Array => {
  const result = decode(text)
  if (Result.isFailure(result)) return assert.fail(`expected ${JSON.stringify(text)} to decode: ${result.failure.message}`)
  return result.success
}

const decodeErr = (text: string) => {
  const result = decode(text)
  if (Result.isSuccess(result)) return assert.fail(`expected ${JSON.stringify(text)} to be rejected`)
  return result.failure
}

describe("Base32", () => {
  // RFC 4648 section 10 vectors, lower-cased, 2-7 mapped to 1-6, padding dropped.
  const rfc: ReadonlyArray<readonly [string, string]> = [
    ["", ""],
    ["f", "my"],
    ["fo", "mzxq"],
    ["foo", "mzxw5"],
    ["foob", "mzxw5yq"],
    ["fooba", "mzxw5ytb"],
    ["foobar", "mzxw5ytboi"]
  ]

  it("encodes the RFC 4648 vectors in Flyte's alphabet", () => {
    for (const [plain, encoded] of rfc) assert.strictEqual(encode(bytes(plain)), encoded)
  })

  it("decodes the RFC 4648 vectors", () => {
    for (const [plain, encoded] of rfc) assert.deepStrictEqual(decodeOk(encoded), bytes(plain))
  })

  it("encodes Flyte volume names as B32(group + '_' + group_version)", () => {
    assert.strictEqual(encodeString("vault-secrets_v1"), "ozqxk2dufvzwky2smv1hgx2wge")
    assert.strictEqual(encodeString("my-group_"), "nv3s1z2sn41xaxy")
    assert.strictEqual(encodeString("é"), encode(Uint8Array.of(0xc3, 0xa9)))
  })

  it("round-trips any bytes (1,000 runs)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (input) => {
        const encoded = encode(input)
        assert.match(encoded, /^[a-z1-6]*$/)
        assert.deepStrictEqual(decodeOk(encoded), input)
      }),
      { numRuns: 1000 }
    )
  })

  it("round-trips any string through encodeString/decodeString", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        assert.deepStrictEqual(decodeString(encodeString(text)), Result.succeed(text))
      }),
      { numRuns: 300 }
    )
  })

  it("accepts upper case, trailing '=' padding and line breaks (Go strips \\r and \\n)", () => {
    assert.deepStrictEqual(decodeOk("MZXW5YTBOI======"), bytes("foobar"))
    assert.deepStrictEqual(decodeOk("MzXw5yTbOi"), bytes("foobar"))
    assert.deepStrictEqual(decodeOk("mzxw5\r\nytboi\n"), bytes("foobar"))
    assert.deepStrictEqual(decodeOk("my=="), bytes("f"))
  })

  it("rejects a character outside the alphabet, naming it and its position", () => {
    const cases: ReadonlyArray<readonly [string, number, string]> = [
      ["mzx0", 3, "\"0\""],
      ["mzxw7", 4, "\"7\""],
      ["my=a", 2, "\"=\""],
      ["mz é", 2, "\" \""],
      ["mzé", 2, "\"é\""],
      ["m😀", 1, "\"😀\""]
    ]
    for (const [input, position, shown] of cases) {
      const error = decodeErr(input)
      assert.strictEqual(error._tag, "Base32Error")
      assert.strictEqual(error.reason, "InvalidCharacter")
      assert.strictEqual(error.position, position)
      assert.include(error.message, `${shown} at position ${position}`)
    }
  })

  it("rejects lengths of 1, 3 or 6 modulo 8 (Go silently drops that quantum)", () => {
    for (const input of ["m", "mzx", "mzxw5y", "mzxw5ytbo", "MZX==="]) {
      const error = decodeErr(input)
      assert.strictEqual(error.reason, "InvalidLength")
      assert.include(error.message, "invalid base32 length")
    }
    for (const input of ["my", "mzxq", "mzxw5", "mzxw5yq", "mzxw5ytb"]) decodeOk(input)
  })

  it("decodeString rejects bytes that are not UTF-8, naming the byte offset", () => {
    const result = decodeString(encode(Uint8Array.of(0x61, 0x62, 0xff, 0x63)))
    if (Result.isSuccess(result)) return assert.fail("expected invalid UTF-8 to be rejected")
    assert.strictEqual(result.failure.reason, "InvalidUtf8")
    assert.strictEqual(result.failure.position, 2)
  })
})
