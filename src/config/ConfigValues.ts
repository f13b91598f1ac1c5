/**
 * ConfigValues: the Schema building blocks of the config file. Every value is decoded from `unknown` (YAML gives
 * numbers, strings, booleans, nulls, lists and mappings) by a codec whose failure says what was expected and
 * what was found: `expected an integer from 0 to 65535, got "abc"`. ConfigIssues.ts adds the dotted key.
 *
 * A struct field built with `field` is optional in the file: absent or `null` gives its default (YAML writes an
 * empty value as null, as in `certDir:`), so every default lives beside its field in WebhookSchema.ts.
 */
import { Effect, Schema, SchemaIssue, SchemaTransformation } from "effect"
import { closestKey } from "./ConfigIssues.ts"
import { durationSeconds, formatSeconds } from "./Duration.ts"
import { quantityValue } from "./Quantity.ts"

/** show: a value as a message quotes it: JSON, at most 80 characters. */
export const show = (value: unknown): string => {
  const text = JSON.stringify(value)
  return text === undefined ? String(value) : text.length > 80 ? `${text.slice(0, 77)}...` : text
}

/** invalid: the issue for a value that is not what the key takes. */
export const invalid = (expected: string, got: unknown): SchemaIssue.Issue =>
  new SchemaIssue.InvalidValue({ message: `expected ${expected}, got ${show(got)}` }, got)

/** A codec from any YAML value. */
export type Value<A> = Schema.Codec<A, unknown>

const fromUnknown = <A, E>(target: Schema.Codec<A, E>, decode: (u: unknown) => Effect.Effect<E, SchemaIssue.Issue>): Value<A> =>
  Schema.Unknown.pipe(
    Schema.decodeTo(
      target,
      SchemaTransformation.transformEffect({ decode, encode: (e: E) => Effect.succeed(e as unknown) })
    )
  )

/** leaf: a scalar; `read` gives the value or undefined, which fails with "expected <expected>, got <value>". */
export const leaf = <A>(target: Schema.Codec<A>, expected: string, read: (u: unknown) => A | undefined): Value<A> =>
  fromUnknown(target, (u) => {
    const value = read(u)
    return value === undefined ? Effect.fail(invalid(expected, u)) : Effect.succeed(value)
  })

export const isMapping = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** mapping: a YAML mapping decoded by a Struct (strict when decoded with `onExcessProperty: "error"`). */
export const mapping = <S extends Schema.Codec<any, any>>(struct: S): Value<S["Type"]> =>
  fromUnknown(struct, (u) => isMapping(u) ? Effect.succeed(u) : Effect.fail(invalid("a mapping", u)))

/** A rule for the free keys of a record: what a key must be, and the names a misspelt one is compared with. */
export interface KeyRule {
  readonly what: string
  readonly test: (key: string) => boolean
  readonly known?: ReadonlyArray<string>
}

/** record: a mapping of free keys, each key checked by `key` and each value decoded by `value`. */
export const record = <A>(key: KeyRule, value: Value<A>, expected: string): Value<{ readonly [key: string]: A }> =>
  fromUnknown(
    Schema.Record(Schema.String, value).pipe(Schema.check(Schema.makeFilter((r: { readonly [key: string]: A }) =>
      Object.keys(r).filter((k) => !key.test(k)).map((k) => {
        const near = key.known === undefined ? undefined : closestKey(k, key.known)
        return { path: [k], issue: `not ${key.what}${near === undefined ? "" : ` (did you mean ${near}?)`}` }
      })
    ))),
    (u) => isMapping(u) ? Effect.succeed(u) : Effect.fail(invalid(expected, u))
  )

/** list: a YAML sequence, each item decoded by `item` (an item's error names its index). */
export const list = <A>(item: Value<A>, expected: string): Value<ReadonlyArray<A>> =>
  fromUnknown(Schema.Array(item), (u) => Array.isArray(u) ? Effect.succeed(u) : Effect.fail(invalid(expected, u)))

/** field: an optional key whose absence or `null` means `fallback`. */
export const field = <A>(value: Value<A>, fallback: A) =>
  fromUnknown(value, (u) => Effect.succeed(u === null || u === undefined ? fallback : u)).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed<unknown>(fallback))
  )

/** section: an optional mapping decoded by `struct`; absent or `null` is `{}`, so each key takes its default. */
export const section = <S extends Schema.Codec<any, any>>(struct: S) =>
  fromUnknown(mapping(struct), (u) => Effect.succeed(u === null || u === undefined ? {} : u)).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed<unknown>({}))
  )

/** optionalField: an optional key without a default: absent, `null` or `""` is undefined. */
export const optionalField = <A>(value: Value<A>) =>
  field(
    fromUnknown(Schema.UndefinedOr(value), (u) => Effect.succeed(u === null || u === "" ? undefined : u)),
    undefined
  )

// ---- Scalars ----------------------------------------------------------------------------------------------

/** text: a string (a YAML number is taken as its text, as Flyte's reader does), optionally checked. */
export const text = (
  check?: { readonly expected: string; readonly test: (s: string) => boolean }
): Value<string> =>
  leaf(Schema.String, check?.expected ?? "a string", (u) => {
    const s = typeof u === "string" ? u : typeof u === "number" ? String(u) : undefined
    return s !== undefined && (check === undefined || check.test(s)) ? s : undefined
  })

/** strictText: a YAML string only (an image reference written as `5` is a mistake, not the image "5"). */
export const strictText = (expected: string, test: (s: string) => boolean): Value<string> =>
  leaf(Schema.String, expected, (u) => typeof u === "string" && test(u) ? u : undefined)

/** boolean: true or false (also the strings "true" / "false"). */
export const boolean: Value<boolean> = leaf(
  Schema.Boolean,
  "true or false",
  (u) => typeof u === "boolean" ? u : u === "true" ? true : u === "false" ? false : undefined
)

const toInteger = (u: unknown): number | undefined => {
  const n = typeof u === "string" && /^\s*-?\d+\s*$/.test(u) ? Number(u) : u
  return typeof n === "number" && Number.isSafeInteger(n) ? n : undefined
}

/** integer: a whole number in [min, max] (a numeric string too: Flyte's chart writes `listenPort: "9443"`). */
export const integer = (min: number, max: number): Value<number> =>
  leaf(Schema.Number, `an integer from ${min} to ${max}`, (u) => {
    const n = toInteger(u)
    return n !== undefined && n >= min && n <= max ? n : undefined
  })

/** choice: one of `choices`, matched case-insensitively; `aliases` map other spellings (and numbers) to a choice. */
export const choice = <const C extends string>(
  choices: ReadonlyArray<C>,
  aliases: Readonly<Record<string, C>> = {}
): Value<C> =>
  leaf(Schema.Literals(choices), `one of ${choices.join(", ")}`, (u) => {
    if (typeof u !== "string" && typeof u !== "number") return undefined
    const key = String(u).toLowerCase()
    return choices.find((c) => c.toLowerCase() === key) ??
      Object.entries(aliases).find(([alias]) => alias.toLowerCase() === key)?.[1]
  })

/** duration: seconds in [min, max] (a number of seconds, or Go's syntax: `300ms`, `5s`, `1m30s`). */
export const duration = (min: number, max: number): Value<number> =>
  leaf(
    Schema.Number,
    `a duration from ${formatSeconds(min)} to ${formatSeconds(max)} (seconds, or Go's syntax such as "500ms", "5s", "1m30s")`,
    (u) => {
      const seconds = durationSeconds(u)
      return seconds !== undefined && seconds >= min && seconds <= max ? seconds : undefined
    }
  )

/** byteSize: a whole number of bytes in [min, max]: an integer or a quantity such as `64Mi` or `1M`. */
export const byteSize = (min: number, max: number): Value<number> =>
  leaf(Schema.Number, `a size in bytes from ${min} to ${max} (an integer, or a quantity such as 64Mi)`, (u) => {
    const n = typeof u === "string" && !/^\s*-?\d+\s*$/.test(u) ? quantityValue(u.trim()) : toInteger(u)
    return n !== undefined && Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined
  })
