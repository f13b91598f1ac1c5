/**
 * ProtoTextLexer: the tokens of protobuf text format as github.com/golang/protobuf v1's `textParser` reads
 * them (proto/text_decode.go `advance`, `next`, `unquoteC`, `unescape`), over UTF-8 bytes. ProtoText parses
 * a Secret from these tokens; see its module comment for the grammar and where we differ from Flyte.
 *
 * - whitespace: space, tab, CR, LF; `#` starts a comment to the end of the line;
 * - symbols: `< > { } : [ ] ; , /`; words: runs of `A-Za-z0-9+-._` (names, enum names, numbers);
 * - strings: `"..."` or `'...'`, no raw newline inside, adjacent strings joined into one token;
 *   escapes `\a \b \f \n \r \t \v \? \' \" \\`, `\ooo` (exactly 3 octal digits, at most \377), `\xHH` and
 *   `\XHH` (exactly 2), `\uXXXX`, `\UXXXXXXXX` (at most U+10FFFF; a surrogate becomes U+FFFD, as Go's
 *   `string(rune)` does; v1 does not pair surrogates).
 * A failure is thrown as `LexFailure` (offset + reason) and turned into a typed error by ProtoText, which
 * keeps the public API throw-free. Every step moves forward: the lexer is linear in its input.
 */

const utf8Encoder = new TextEncoder()
const utf8Lossy = new TextDecoder("utf-8", { ignoreBOM: true })

/** Token: one lexical unit; `start`/`end` are byte offsets. */
export interface Token {
  readonly kind: "eof" | "symbol" | "word" | "string"
  readonly start: number
  readonly end: number
  /** symbol or word text; empty for strings (Lexer.raw gives their source) */
  readonly text: string
  /** unescaped bytes of a string token */
  readonly bytes?: Uint8Array
}

/** LexFailure is thrown inside the lexer and parser only; ProtoText turns it into a ProtoTextError. */
export class LexFailure {
  readonly offset: number
  readonly reason: string
  constructor(offset: number, reason: string) {
    this.offset = offset
    this.reason = reason
  }
}
/** fail throws a LexFailure. */
export const fail = (offset: number, reason: string): never => {
  throw new LexFailure(offset, reason)
}

const isSymbol = (c: number) =>
  c === 0x3c || c === 0x3e || c === 0x7b || c === 0x7d || c === 0x3a || c === 0x5b || c === 0x5d || c === 0x3b ||
  c === 0x2c || c === 0x2f
const isWordChar = (c: number) =>
  (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b ||
  c === 0x2e || c === 0x5f
const isQuote = (c: number | undefined) => c === 0x22 || c === 0x27
const hexValue = (c: number) =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1
const printable = (c: number) => (c >= 0x20 && c < 0x7f ? `"${String.fromCharCode(c)}"` : `byte 0x${c.toString(16)}`)

const SimpleEscapes: ReadonlyMap<number, number> = new Map([
  [0x61, 0x07], [0x62, 0x08], [0x66, 0x0c], [0x6e, 0x0a], [0x72, 0x0d], [0x74, 0x09], [0x76, 0x0b],
  [0x3f, 0x3f], [0x27, 0x27], [0x22, 0x22], [0x5c, 0x5c]
])

/** Lexer: v1 textParser tokenisation over UTF-8 bytes, with one token of push-back. */
export class Lexer {
  readonly input: Uint8Array
  pos = 0
  private backed: Token | undefined = undefined

  constructor(input: Uint8Array) {
    this.input = input
  }

  back(token: Token): void {
    this.backed = token
  }

  next(): Token {
    const backed = this.backed
    if (backed !== undefined) {
      this.backed = undefined
      return backed
    }
    this.skipSpace()
    const { input } = this
    const start = this.pos
    if (start >= input.length) return { kind: "eof", start, end: start, text: "" }
    const c = input[start]!
    if (isSymbol(c)) {
      this.pos++
      return { kind: "symbol", start, end: start + 1, text: String.fromCharCode(c) }
    }
    if (isQuote(c)) return this.strings()
    if (!isWordChar(c)) return fail(start, `unexpected ${printable(c)}`)
    let end = start + 1
    while (end < input.length && isWordChar(input[end]!)) end++
    this.pos = end
    return { kind: "word", start, end, text: utf8Lossy.decode(input.subarray(start, end)) }
  }

  /** raw is the source text of a token. */
  raw(token: Token): string {
    return token.kind === "string" ? utf8Lossy.decode(this.input.subarray(token.start, token.end)) : token.text
  }

  /** show quotes a token for an error message. */
  show(token: Token): string {
    if (token.kind === "eof") return "end of input"
    const raw = this.raw(token)
    return JSON.stringify(raw.length > 40 ? `${raw.slice(0, 40)}...` : raw)
  }

  /** optionalSeparator consumes one `;` or `,` if it comes next. */
  optionalSeparator(): void {
    const token = this.next()
    if (token.kind !== "symbol" || (token.text !== ";" && token.text !== ",")) this.back(token)
  }

  private skipSpace(): void {
    const { input } = this
    let i = this.pos
    while (i < input.length) {
      const c = input[i]!
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++
      else if (c === 0x23) while (i < input.length && input[i] !== 0x0a) i++
      else break
    }
    this.pos = i
  }

  /** strings reads one or more adjacent quoted strings as one token. */
  private strings(): Token {
    const start = this.pos
    const pieces: Array<Uint8Array> = []
    let end = start
    do {
      pieces.push(this.quoted())
      end = this.pos
      this.skipSpace()
    } while (isQuote(this.input[this.pos]))
    const bytes = pieces.length === 1 ? pieces[0]! : concat(pieces)
    return { kind: "string", start, end, text: "", bytes }
  }

  private quoted(): Uint8Array {
    const { input } = this
    const open = this.pos
    const quote = input[open]
    let i = open + 1
    // As v1: a backslash skips the byte after it, the string ends at its quote and may not span lines.
    while (i < input.length && input[i] !== quote && input[i] !== 0x0a) {
      i += input[i] === 0x5c && i + 1 < input.length ? 2 : 1
    }
    if (i >= input.length || input[i] !== quote) {
      return fail(open, "unterminated string (a string ends on the line it starts; write a newline as \\n)")
    }
    this.pos = i + 1
    return unescape(input, open + 1, i)
  }
}

const concat = (pieces: ReadonlyArray<Uint8Array>): Uint8Array => {
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0))
  let o = 0
  for (const piece of pieces) {
    out.set(piece, o)
    o += piece.length
  }
  return out
}

/** octalEscape reads `\ooo` at input[i] (the backslash): exactly 3 octal digits, at most \377. */
const octalEscape = (input: Uint8Array, i: number, to: number): number => {
  if (to - (i + 2) < 2) fail(i, `\\${String.fromCharCode(input[i + 1]!)} requires 2 following octal digits`)
  const digits = input.subarray(i + 1, i + 4)
  const octal = digits.every((d) => d >= 0x30 && d <= 0x37)
  const value = octal ? (digits[0]! - 0x30) * 64 + (digits[1]! - 0x30) * 8 + digits[2]! - 0x30 : 256
  if (value > 255) fail(i, `invalid octal escape \\${utf8Lossy.decode(digits)} (3 octal digits, at most \\377)`)
  return value
}

/** hexEscape reads the `count` hex digits of `\x`, `\X`, `\u` or `\U` at input[i] (the backslash). */
const hexEscape = (input: Uint8Array, i: number, to: number, count: number): number => {
  const name = `\\${String.fromCharCode(input[i + 1]!)}`
  if (to - (i + 2) < count) fail(i, `${name} requires ${count} following hex digits`)
  const digits = input.subarray(i + 2, i + 2 + count)
  let value = 0
  for (const digit of digits) {
    const h = hexValue(digit)
    if (h < 0) fail(i, `${name}${utf8Lossy.decode(digits)} contains non-hex digits`)
    value = value * 16 + h
  }
  return value <= 0x10ffff ? value : fail(i, `${name}${utf8Lossy.decode(digits)} is not a Unicode code point`)
}

const HexDigits: ReadonlyMap<number, number> = new Map([[0x78, 2], [0x58, 2], [0x75, 4], [0x55, 8]])

/** unescape decodes the body of one quoted string (input[from, to)); the output is never longer. */
const unescape = (input: Uint8Array, from: number, to: number): Uint8Array => {
  const out = new Uint8Array(to - from)
  let o = 0
  for (let i = from; i < to;) {
    const c = input[i]!
    if (c !== 0x5c) {
      out[o++] = c
      i++
      continue
    }
    // The lexer only ends a string on an unescaped quote, so a backslash is always followed by a byte.
    const e = input[i + 1]!
    const simple = SimpleEscapes.get(e)
    const count = HexDigits.get(e)
    if (simple !== undefined) {
      out[o++] = simple
      i += 2
    } else if (e >= 0x30 && e <= 0x37) {
      out[o++] = octalEscape(input, i, to)
      i += 4
    } else if (count === 2) {
      out[o++] = hexEscape(input, i, to, count)
      i += 4
    } else if (count !== undefined) {
      // A surrogate code point is written as U+FFFD by encodeInto, as Go's string(rune) does.
      o += utf8Encoder.encodeInto(String.fromCodePoint(hexEscape(input, i, to, count)), out.subarray(o)).written
      i += 2 + count
    } else {
      const shown = e < 0x80 ? String.fromCharCode(e) : [...utf8Lossy.decode(input.subarray(i + 1, i + 5))][0]
      fail(i, `unknown escape \\${shown}`)
    }
  }
  return out.subarray(0, o)
}

// Numbers: Go's strconv.ParseInt(s, 0, 32), which v1 uses for enum values.

/** underscoreOk is Go's rule for `_` digit separators in base-0 literals (strconv/atoi.go). */
const underscoreOk = (literal: string): boolean => {
  let s = literal[0] === "+" || literal[0] === "-" ? literal.slice(1) : literal
  let saw = "^"
  let hex = false
  if (s.length >= 2 && s[0] === "0" && "bBoOxX".includes(s[1]!)) {
    hex = s[1] === "x" || s[1] === "X"
    s = s.slice(2)
    saw = "0"
  }
  for (const ch of s) {
    const h = hexValue(ch.charCodeAt(0))
    if (h >= 0 && (hex || h < 10)) saw = "0"
    else if (ch === "_") {
      if (saw !== "0") return false
      saw = "_"
    } else {
      if (saw === "_") return false
      saw = "!"
    }
  }
  return saw !== "_"
}

/** parseGoInt32 returns the value of an int32 literal as Go's `strconv.ParseInt(s, 0, 32)` reads it. */
export const parseGoInt32 = (literal: string): number | undefined => {
  const neg = literal[0] === "-"
  const body = literal[0] === "+" || neg ? literal.slice(1) : literal
  if (body === "") return undefined
  let base = 10
  let digits = body
  if (body[0] === "0") {
    const prefix = body.length >= 3 ? body[1]!.toLowerCase() : ""
    base = prefix === "x" ? 16 : prefix === "b" ? 2 : 8
    digits = prefix === "x" || prefix === "b" || prefix === "o" ? body.slice(2) : body.slice(1)
  }
  let value = 0
  let underscores = false
  for (const ch of digits) {
    if (ch === "_") {
      underscores = true
      continue
    }
    const d = parseInt(ch, 36)
    if (!(d < base)) return undefined
    value = value * base + d
    if (value > 2 ** 31) return undefined
  }
  if (underscores && !underscoreOk(literal)) return undefined
  if (value > (neg ? 2 ** 31 : 2 ** 31 - 1)) return undefined
  return neg ? -value : value
}
