/**
 * Base32: the encoding of Flyte's secret annotations and of its K8s volume names.
 *
 * Flyte uses RFC 4648 base32 with the alphabet `abcdefghijklmnopqrstuvwxyz123456` (a–z for A–Z, 1–6 for 2–7)
 * and no padding (flytestdlib `encoding.Base32Encoder`). Encoding is exactly Go's `EncodeToString`.
 *
 * Decoding accepts everything Go's `DecodeString` accepts and a little more, and rejects what Go would
 * silently mangle:
 * - like Go: `\r` and `\n` anywhere are ignored; unused low bits of the last character are ignored;
 * - ours, more lenient: upper-case letters and trailing `=` padding are accepted (Go rejects both);
 * - ours, stricter: a length of 1, 3 or 6 modulo 8 is an error. No encoder produces it, and Go drops the
 *   whole last quantum without a word, which would hand a truncated text to the parser.
 * Decoding is one linear pass over the input; errors name the offending position and character.
 */
import { Data, Result } from "effect"

/** Base32Alphabet: Flyte's alphabet, value i at index i. */
export const Base32Alphabet = "abcdefghijklmnopqrstuvwxyz123456"

/** Base32Error: the input is not base32 (`position` indexes the input string) or, for decodeString, not UTF-8
 *  (`position` is then the byte offset in the decoded data). */
export class Base32Error extends Data.TaggedError("Base32Error")<{
  readonly reason: "InvalidCharacter" | "InvalidLength" | "InvalidUtf8"
  readonly position: number
  readonly message: string
}> {}

const Invalid = -1
const Skipped = -2

/** DecodeTable maps a char code (< 128) to its 5-bit value, Invalid, or Skipped (`\r`, `\n`). */
const DecodeTable: Int8Array = (() => {
  const table = new Int8Array(128).fill(Invalid)
  for (let i = 0; i < Base32Alphabet.length; i++) {
    const code = Base32Alphabet.charCodeAt(i)
    table[code] = i
    if (code >= 0x61) table[code - 0x20] = i // upper case letter
  }
  table[0x0a] = Skipped
  table[0x0d] = Skipped
  return table
})()

const utf8Encoder = new TextEncoder()
const utf8Decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

/** encode writes bytes as unpadded base32 in Flyte's alphabet. */
export const encode = (bytes: Uint8Array): string => {
  let out = ""
  let buffer = 0
  let bits = 0
  for (let i = 0; i < bytes.length; i++) {
    buffer = ((buffer << 8) | bytes[i]!) & 0xfff
    bits += 8
    while (bits >= 5) {
      bits -= 5
      out += Base32Alphabet[(buffer >> bits) & 31]
    }
  }
  if (bits > 0) out += Base32Alphabet[(buffer << (5 - bits)) & 31]
  return out
}

/** encodeString encodes the UTF-8 bytes of a string; Flyte's volume names are `encodeString(group + "_" + gv)`. */
export const encodeString = (text: string): string => encode(utf8Encoder.encode(text))

const describe = (char: string): string => JSON.stringify(char)

const invalidLength = (count: number): Base32Error =>
  new Base32Error({
    reason: "InvalidLength",
    position: count,
    message: `invalid base32 length: ${count} characters (${count % 8} modulo 8); a length of 1, 3 or 6 modulo 8 ` +
      `is never produced by an encoder (the value is truncated or corrupted)`
  })

/** decode reads base32 text into bytes (see the module comment for what is accepted). */
export const decode = (text: string): Result.Result<Uint8Array, Base32Error> => {
  let end = text.length
  while (end > 0 && text.charCodeAt(end - 1) === 0x3d) end-- // trailing "=" padding
  const out = new Uint8Array(Math.floor((end * 5) / 8))
  let written = 0
  let count = 0
  let buffer = 0
  let bits = 0
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i)
    const value = code < 128 ? DecodeTable[code]! : Invalid
    if (value === Skipped) continue
    if (value === Invalid) {
      const char = String.fromCodePoint(text.codePointAt(i)!)
      return Result.fail(
        new Base32Error({
          reason: "InvalidCharacter",
          position: i,
          message: `invalid base32 character ${describe(char)} at position ${i}: expected one of a-z, 1-6`
        })
      )
    }
    count++
    buffer = ((buffer << 5) | value) & 0xfff
    bits += 5
    if (bits >= 8) {
      bits -= 8
      out[written++] = (buffer >> bits) & 0xff
    }
  }
  const rest = count % 8
  if (rest === 1 || rest === 3 || rest === 6) return Result.fail(invalidLength(count))
  return Result.succeed(out.subarray(0, written))
}

/** firstInvalidUtf8 is the offset of the first byte that does not start a valid UTF-8 sequence (-1 if none). */
const firstInvalidUtf8 = (bytes: Uint8Array): number => {
  for (let i = 0; i < bytes.length;) {
    const b = bytes[i]!
    const size = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0
    if (size === 0 || i + size > bytes.length) return i
    try {
      utf8Decoder.decode(bytes.subarray(i, i + size))
    } catch {
      return i
    }
    i += size
  }
  return -1
}

/** decodeString reads base32 text whose bytes are UTF-8 text. */
export const decodeString = (text: string): Result.Result<string, Base32Error> =>
  Result.flatMap(decode(text), (bytes) => {
    try {
      return Result.succeed(utf8Decoder.decode(bytes))
    } catch {
      const position = firstInvalidUtf8(bytes)
      return Result.fail(
        new Base32Error({
          reason: "InvalidUtf8",
          position,
          message: `base32 data is not UTF-8 text: invalid UTF-8 at byte ${position} of the decoded data`
        })
      )
    }
  })
