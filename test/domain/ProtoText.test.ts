import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import * as fc from "fast-check"
import { decodeSecretText, encodeSecretText, type ProtoTextDecoded } from "../../src/domain/ProtoText.ts"
import { parseGoInt32 } from "../../src/domain/ProtoTextLexer.ts"
import { makeSecretRequest, MountRequirements, type SecretRequest } from "../../src/domain/SecretRequest.ts"
import { lenientText, secretRequest } from "./SecretArbitraries.ts"

const parsed = (text: string | Uint8Array): ProtoTextDecoded => {
  const result = decodeSecretText(text)
  if (Result.isFailure(result)) return assert.fail(`expected ${JSON.stringify(text)} to parse: ${result.failure.message}`)
  return result.success
}

const parseError = (text: string | Uint8Array) => {
  const result = decodeSecretText(text)
  if (Result.isSuccess(result)) return assert.fail(`expected ${JSON.stringify(text)} to be rejected`)
  return result.failure
}

describe("ProtoText writer (golang/protobuf v1 MarshalTextString)", () => {
  it("writes the spec example: fields in order, defaults omitted", () => {
    const secret = makeSecretRequest({ group: "grOUP", key: "HELLO", mountRequirement: "ENV_VAR" })
    assert.strictEqual(encodeSecretText(secret), "group: \"grOUP\"\nkey: \"HELLO\"\nmount_requirement: ENV_VAR\n")
  })

  it("writes every field in declaration order and nothing for an empty secret", () => {
    const secret = makeSecretRequest({ envVar: "E", mountRequirement: "FILE", key: "k", groupVersion: "v1", group: "g" })
    assert.strictEqual(
      encodeSecretText(secret),
      "group: \"g\"\ngroup_version: \"v1\"\nkey: \"k\"\nmount_requirement: FILE\nenv_var: \"E\"\n"
    )
    assert.strictEqual(encodeSecretText(makeSecretRequest({})), "")
  })

  it("escapes \\n \\r \\t \\\" \\\\ and writes other bytes outside printable ASCII as 3-digit octal", () => {
    const secret = makeSecretRequest({ group: "a\"b\\c\n\r\t\u0000\u0001\u007f 'é😀" })
    assert.strictEqual(
      encodeSecretText(secret),
      "group: \"a\\\"b\\\\c\\n\\r\\t\\000\\001\\177 '\\303\\251\\360\\237\\230\\200\"\n"
    )
  })

  it("writes a lone surrogate as U+FFFD", () => {
    assert.strictEqual(encodeSecretText(makeSecretRequest({ key: "\ud800" })), "key: \"\\357\\277\\275\"\n")
  })
})

describe("ProtoText reader (golang/protobuf v1 UnmarshalText)", () => {
  it("reads the writer's output back (1,000 runs, quotes, backslashes, newlines, control and non-ASCII)", () => {
    fc.assert(
      fc.property(secretRequest, (secret) => {
        const text = encodeSecretText(secret)
        assert.match(text, /^[\x20-\x7e\n]*$/)
        assert.deepStrictEqual(parsed(text), { secret, unknownFields: [], warnings: [] })
      }),
      { numRuns: 1000 }
    )
  })

  it("reads any lenient spelling of a secret (1,000 runs: quotes, escapes, comments, separators, numeric enums)", () => {
    fc.assert(
      fc.property(secretRequest.chain((secret) => lenientText(secret).map((text) => [secret, text] as const)), ([secret, text]) => {
        assert.deepStrictEqual(parsed(text).secret, secret)
      }),
      { numRuns: 1000 }
    )
  })

  const lenient: ReadonlyArray<readonly [string, string, Partial<SecretRequest>]> = [
    ["comments and blank lines", "# a comment\n\n  group: \"g\" # trailing\n#last", { group: "g" }],
    ["single quotes", "group: 'g\"1' key: 'k'", { group: "g\"1", key: "k" }],
    ["concatenated strings", "group: \"a\" 'b'\n# between\n \"c\"", { group: "abc" }],
    ["semicolons and commas", "group: \"g\"; key: \"k\", env_var: \"E\";", { group: "g", key: "k", envVar: "E" }],
    ["no whitespace at all", "group:\"g\"key:\"k\"mount_requirement:FILE", { group: "g", key: "k", mountRequirement: "FILE" }],
    ["whitespace around ':'", "group\t:\r\n  \"g\"", { group: "g" }],
    ["enum by name", "mount_requirement: ENV_VAR", { mountRequirement: "ENV_VAR" }],
    ["enum by number", "mount_requirement: 1", { mountRequirement: "ENV_VAR" }],
    ["enum in hex", "mount_requirement: 0x2", { mountRequirement: "FILE" }],
    ["enum in octal", "mount_requirement: 02", { mountRequirement: "FILE" }],
    ["enum with a sign", "mount_requirement: +1", { mountRequirement: "ENV_VAR" }],
    ["enum zero", "mount_requirement: 0", { mountRequirement: "ANY" }],
    ["simple escapes", "key: \"\\a\\b\\f\\n\\r\\t\\v\\?\\'\\\"\\\\\"", { key: "\u0007\b\f\n\r\t\u000b?'\"\\" }],
    ["octal and hex escapes", "key: \"\\101\\x42\\X43\\303\\251\"", { key: "ABCé" }],
    ["unicode escapes", "key: \"\\u00e9\\U0001F600\"", { key: "é😀" }],
    ["surrogate escapes become U+FFFD (Go string(rune))", "key: \"\\ud83d\\ude00\"", { key: "\ufffd\ufffd" }],
    ["raw UTF-8", "key: \"é😀\"", { key: "é😀" }],
    ["empty input", "", {}],
    ["empty strings", "group: \"\" key: ''", {}]
  ]

  for (const [name, text, expected] of lenient) {
    it(`accepts ${name}`, () => {
      assert.deepStrictEqual(parsed(text), { secret: makeSecretRequest(expected), unknownFields: [], warnings: [] })
    })
  }

  it("skips unknown fields with a warning: scalar, message, list, extension and Any names", () => {
    const text = [
      "future_scalar: 42",
      "group: \"g\"",
      "future_message { a: 1 b < c: 'x' > d: [1, 2] }",
      "future_colon_message: < x: \"}\" >;",
      "future_list: [\"a\", 'b', { c: 1 }],",
      "[com.example.ext]: \"v\"",
      "[type.googleapis.com/flyte.X] { y: 1 }",
      "key: \"k\"",
      "future_scalar: 'again'"
    ].join("\n")
    assert.deepStrictEqual(parsed(text), {
      secret: makeSecretRequest({ group: "g", key: "k" }),
      unknownFields: [
        "future_scalar",
        "future_message",
        "future_colon_message",
        "future_list",
        "[com.example.ext]",
        "[type.googleapis.com/flyte.X]"
      ],
      warnings: [
        "ignored unknown fields of flyteidl.core.Secret: future_scalar, future_message, future_colon_message, " +
        "future_list, [com.example.ext], [type.googleapis.com/flyte.X]"
      ]
    })
  })

  it("names one unknown field in the singular and caps a long list", () => {
    assert.deepStrictEqual(parsed("x: 1").warnings, ["ignored unknown field of flyteidl.core.Secret: x"])
    const many = Array.from({ length: 12 }, (_, i) => `f${i}: ${i}`).join("\n")
    assert.deepStrictEqual(parsed(many).warnings, [
      "ignored unknown fields of flyteidl.core.Secret: f0, f1, f2, f3, f4, f5, f6, f7, f8, f9 and 2 more"
    ])
    assert.strictEqual(parsed(many).unknownFields.length, 12)
    const long = "n".repeat(100)
    assert.deepStrictEqual(parsed(`${long}: 1`).warnings, [
      `ignored unknown field of flyteidl.core.Secret: ${"n".repeat(64)}...`
    ])
    assert.deepStrictEqual(parsed(`${long}: 1`).unknownFields, [long])
  })

  const errors: ReadonlyArray<readonly [string, string, number, number, string]> = [
    ["duplicate field (v1: non-repeated field was repeated)", "key: \"a\"\nkey: \"b\"", 2, 1, "non-repeated field \"key\" was repeated"],
    ["missing ':' (required for scalars)", "group \"g\"", 1, 7, "expected ':' after field \"group\", found \"\\\"g\\\"\""],
    ["unterminated string", "group: \"abc", 1, 8, "unterminated string"],
    ["raw newline in a string", "group: \"a\nb\"", 1, 8, "unterminated string"],
    ["bad enum name", "mount_requirement: env_var", 1, 20, "invalid value for enum field \"mount_requirement\": \"env_var\""],
    ["quoted enum", "mount_requirement: \"FILE\"", 1, 20, "invalid value for enum field \"mount_requirement\""],
    ["enum number above range", "mount_requirement: 3", 1, 20, "mount_requirement 3 is out of range"],
    ["negative enum number", "mount_requirement: -1", 1, 20, "mount_requirement -1 is out of range"],
    ["missing value at end", "key: \"k\"\ngroup:", 2, 7, "missing value for field \"group\": unexpected end of input"],
    ["missing value before a field", "group: key: \"k\"", 1, 8, "invalid value for string field \"group\": \"key\""],
    ["number for a string field", "group: 12", 1, 8, "invalid value for string field \"group\": \"12\" (expected a quoted string)"],
    ["unknown escape", "key: \"a\\qb\"", 1, 8, "unknown escape \\q"],
    ["octal escape above \\377", "key: \"\\400\"", 1, 7, "invalid octal escape \\400"],
    ["short octal escape", "key: \"\\12\"", 1, 7, "\\1 requires 2 following octal digits"],
    ["short hex escape", "key: \"\\x4\"", 1, 7, "\\x requires 2 following hex digits"],
    ["bad unicode escape", "key: \"\\u12g4\"", 1, 7, "\\u12g4 contains non-hex digits"],
    ["code point above U+10FFFF", "key: \"\\U00110000\"", 1, 7, "\\U00110000 is not a Unicode code point"],
    ["unexpected character", "group: \"g\"\n  key % \"k\"", 2, 7, "unexpected \"%\""],
    ["non-ASCII outside strings (column counts characters)", "key: \"é\" é", 1, 10, "unexpected byte 0xc3"],
    ["separator without a field", "group: \"g\";;", 1, 12, "expected a field name, found \";\""],
    ["unbalanced unknown message", "x { a: [1 }", 1, 11, "expected \"]\" to close \"[\", found \"}\""],
    ["unclosed unknown message", "x < a: 1", 1, 3, "\"<\" is never closed"],
    ["unknown field without value", "x: ;", 1, 4, "missing value for unknown field \"x\""],
    ["unclosed extension name", "[a.b", 1, 1, "unclosed extension or type URL name"]
  ]

  for (const [name, text, line, column, reason] of errors) {
    it(`rejects ${name} at line ${line}, column ${column}`, () => {
      const error = parseError(text)
      assert.strictEqual(error._tag, "ProtoTextError")
      assert.include(error.reason, reason)
      assert.deepStrictEqual([error.line, error.column], [line, column])
      assert.strictEqual(error.message, `line ${line}, column ${column}: ${error.reason}`)
    })
  }

  it("rejects a string field that is not UTF-8 after unescaping", () => {
    assert.include(parseError("key: \"\\377\"").reason, "string value of field \"key\" is not valid UTF-8")
    assert.include(parseError(Uint8Array.of(0x6b, 0x65, 0x79, 0x3a, 0x22, 0xff, 0x22)).reason, "not valid UTF-8")
  })
})

describe("parseGoInt32 (Go strconv.ParseInt(s, 0, 32))", () => {
  const valid: ReadonlyArray<readonly [string, number]> = [
    ["0", 0], ["1", 1], ["+2", 2], ["-2", -2], ["010", 8], ["0o10", 8], ["0x1F", 31], ["0X1f", 31], ["0b101", 5],
    ["1_000", 1000], ["0x_1", 1], ["2147483647", 2147483647], ["-2147483648", -2147483648]
  ]
  const invalid = ["", "+", "-", "08", "0x", "0b2", "1.0", "1e3", "_1", "1_", "1__0", "2147483648", "-2147483649", "ENV_VAR"]

  it("reads what Go reads", () => {
    for (const [literal, value] of valid) assert.strictEqual(parseGoInt32(literal), value, literal)
  })

  it("rejects what Go rejects", () => {
    for (const literal of invalid) assert.strictEqual(parseGoInt32(literal), undefined, literal)
  })

  it("agrees with Number() on plain decimals", () => {
    fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (n) => {
      assert.strictEqual(parseGoInt32(String(n)), n)
    }))
  })
})

// Keep the enum order pinned: numbers on the wire are indexes into it.
it("MountRequirements are in protobuf enum order", () => {
  assert.deepStrictEqual(MountRequirements, ["ANY", "ENV_VAR", "FILE"])
})
