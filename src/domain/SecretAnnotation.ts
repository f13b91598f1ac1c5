/**
 * SecretAnnotation: the `flyte.secrets/s<N>` pod annotations, in both directions.
 *
 * A value is base32 (Base32) of the protobuf text (ProtoText) of one `flyteidl.core.Secret`, as flytepropeller
 * writes it (`pkg/utils/secrets/marshaler.go`: `encodeSecret(proto.MarshalTextString(s))`). Every annotation
 * whose key starts with `flyte.secrets/s` is a request, whatever follows the prefix (Flyte's `HasPrefix`).
 * Ours: Flyte reads them in Go map order; we order them by ascending numeric suffix (`s2` before `s10`), then
 * the non-numeric suffixes in code-unit string order, so the same Pod always gives the same patch.
 * Every invalid annotation is reported, not only the first, so one denial names them all.
 * All functions are pure, synchronous, throw-free and linear in the size of the annotations.
 */
import { Data, Result } from "effect"
import { type Base32Error, decode as decodeBase32, encodeString } from "./Base32.ts"
import { SecretAnnotationPrefix } from "./FlyteNames.ts"
import { decodeSecretText, encodeSecretText, type ProtoTextError, SecretMessageName } from "./ProtoText.ts"
import type { RequestedSecret, SecretRequest } from "./SecretRequest.ts"

/** DecodedSecret: one annotation's secret and the warnings (ignored unknown fields) it produced. */
export interface DecodedSecret {
  readonly secret: SecretRequest
  readonly warnings: ReadonlyArray<string>
}

/** AnnotationError: one `flyte.secrets/s<N>` annotation that cannot be read; `reason` never holds a secret value
 *  (an annotation only says where a secret lives). `message` is `<annotation>: <reason>`. */
export class AnnotationError extends Data.TaggedError("AnnotationError")<{
  readonly annotation: string
  readonly reason: string
  readonly cause: Base32Error | ProtoTextError
  readonly message: string
}> {}

/** RequestedSecrets: the Pod's requests in processing order, with warnings prefixed by their annotation. */
export interface RequestedSecrets {
  readonly _tag: "Success"
  readonly secrets: ReadonlyArray<RequestedSecret>
  readonly warnings: ReadonlyArray<string>
}

/** InvalidAnnotations: at least one annotation is unreadable. `annotation` and `reason` describe the first one
 *  (in processing order) and the reason names the others, so `${annotation}: ${reason}` is a full denial
 *  message; `errors` holds every one. */
export interface InvalidAnnotations {
  readonly _tag: "Failure"
  readonly annotation: string
  readonly reason: string
  readonly errors: readonly [AnnotationError, ...Array<AnnotationError>]
}

/** encodeSecret is the annotation value of one secret: base32(text format), exactly as Flyte writes it. */
export const encodeSecret = (secret: SecretRequest): string => encodeString(encodeSecretText(secret))

/** encodeAnnotations gives `flyte.secrets/s0`, `s1`, ... for the secrets, in order. */
export const encodeAnnotations = (secrets: ReadonlyArray<SecretRequest>): Record<string, string> => {
  const annotations: Record<string, string> = {}
  secrets.forEach((secret, index) => {
    annotations[`${SecretAnnotationPrefix}${index}`] = encodeSecret(secret)
  })
  return annotations
}

/** decodeSecret reads one annotation value. Base32 errors come first; text errors name line and column. */
export const decodeSecret = (value: string): Result.Result<DecodedSecret, Base32Error | ProtoTextError> =>
  Result.flatMap(decodeBase32(value), (bytes) =>
    Result.map(decodeSecretText(bytes), (decoded) => ({ secret: decoded.secret, warnings: decoded.warnings })))

const describeFailure = (cause: Base32Error | ProtoTextError): string =>
  cause._tag === "Base32Error" ? cause.message : `invalid ${SecretMessageName} text at ${cause.message}`

const isDigits = (text: string): boolean => {
  if (text.length === 0) return false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return false
  }
  return true
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** compareDecimal orders digit strings by value without overflow (`007` = `7`, tie broken by text). */
const compareDecimal = (a: string, b: string): number => {
  let i = 0
  let j = 0
  while (i < a.length - 1 && a[i] === "0") i++
  while (j < b.length - 1 && b[j] === "0") j++
  const byLength = (a.length - i) - (b.length - j)
  if (byLength !== 0) return byLength
  return compareText(a.slice(i), b.slice(j)) || compareText(a, b)
}

/** compareSuffix: numeric suffixes ascending by value, then non-numeric ones in string order. */
export const compareSuffix = (a: string, b: string): number => {
  const numericA = isDigits(a)
  const numericB = isDigits(b)
  if (numericA && numericB) return compareDecimal(a, b)
  if (numericA !== numericB) return numericA ? -1 : 1
  return compareText(a, b)
}

/** secretAnnotationKeys lists the annotation keys that request secrets, in processing order. */
export const secretAnnotationKeys = (annotations: Readonly<Record<string, string>> | undefined): Array<string> =>
  Object.keys(annotations ?? {})
    .filter((key) => key.startsWith(SecretAnnotationPrefix))
    .sort((a, b) => compareSuffix(a.slice(SecretAnnotationPrefix.length), b.slice(SecretAnnotationPrefix.length)))

const invalid = (errors: readonly [AnnotationError, ...Array<AnnotationError>]): InvalidAnnotations => {
  const [first, ...others] = errors
  const more = others.length === 0
    ? ""
    : ` (also invalid: ${others.map((e) => e.annotation).join(", ")})`
  return { _tag: "Failure", annotation: first.annotation, reason: `${first.reason}${more}`, errors }
}

/**
 * requestedSecrets decodes every secret annotation of a Pod, in processing order. `decode` defaults to
 * decodeSecret; the Mutator passes a memoised one (values repeat across Pods).
 */
export const requestedSecrets = (
  annotations: Readonly<Record<string, string>> | undefined,
  decode: typeof decodeSecret = decodeSecret
): RequestedSecrets | InvalidAnnotations => {
  const source = annotations ?? {}
  const secrets: Array<RequestedSecret> = []
  const warnings: Array<string> = []
  const errors: Array<AnnotationError> = []
  for (const annotation of secretAnnotationKeys(source)) {
    const decoded = decode(source[annotation]!)
    if (Result.isFailure(decoded)) {
      const reason = describeFailure(decoded.failure)
      const message = `${annotation}: ${reason}`
      errors.push(new AnnotationError({ annotation, reason, cause: decoded.failure, message }))
      continue
    }
    secrets.push({ annotation, secret: decoded.success.secret })
    for (const warning of decoded.success.warnings) warnings.push(`${annotation}: ${warning}`)
  }
  const [first, ...others] = errors
  if (first !== undefined) return invalid([first, ...others])
  return { _tag: "Success", secrets, warnings }
}
