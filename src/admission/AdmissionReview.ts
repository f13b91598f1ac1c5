/**
 * AdmissionReview: the wire format of `admission.k8s.io/v1` and `v1beta1`, as Effect Schemas, both directions.
 *
 * The request schema decodes the envelope the Mutator reads (apiVersion, kind, request uid, operation, kind,
 * resource, subResource, namespace, dryRun); `object` stays raw JSON, because patches are computed against the
 * object exactly as it was received (a decoded, re-encoded Pod drops the fields its schema does not know).
 * Fields the webhook never reads (userInfo, options, oldObject, requestKind, ...) are not decoded at all.
 * The response schema is what every answer is built as (src/admission/Answers.ts); its `patch` is the base64
 * string on the wire, so encoding an answer is `JSON.stringify` (BASE64_JSON_PATCH decodes it, for readers).
 * Answers echo the request's apiVersion and uid, as the API server requires (apiserver-contract, "The answer").
 */
import { Exit, Schema, SchemaIssue } from "effect"
import type { JsonPatchOp } from "../domain/JsonPatch.ts"
import type { JsonObject } from "../domain/PodEdit.ts"
import { identify, MAX_UID_LENGTH } from "./ReviewIdentity.ts"

export const SupportedVersions = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"] as const
export type AdmissionVersion = (typeof SupportedVersions)[number]

// Only `kind.kind` and `resource.resource` are read; group and version are checked when present.
const GroupVersionKind = Schema.Struct({
  group: Schema.optionalKey(Schema.String),
  version: Schema.optionalKey(Schema.String),
  kind: Schema.String
})
const GroupVersionResource = Schema.Struct({
  group: Schema.optionalKey(Schema.String),
  version: Schema.optionalKey(Schema.String),
  resource: Schema.String
})

/** The request fields the webhook reads. */
export const AdmissionRequestSchema = Schema.Struct({
  uid: Schema.String.check(Schema.isMinLength(1), Schema.isMaxLength(MAX_UID_LENGTH)),
  kind: GroupVersionKind,
  resource: GroupVersionResource,
  subResource: Schema.optionalKey(Schema.String),
  namespace: Schema.optionalKey(Schema.String),
  operation: Schema.String,
  dryRun: Schema.optionalKey(Schema.Boolean),
  object: Schema.optionalKey(Schema.Unknown)
})

/** The AdmissionReview the API server sends. */
export const AdmissionReviewRequest = Schema.Struct({
  apiVersion: Schema.Literals(SupportedVersions),
  kind: Schema.Literal("AdmissionReview"),
  request: AdmissionRequestSchema
})

/** `status` of a refused request (metav1.Status, the fields the API server reads). */
export const ResponseStatus = Schema.Struct({
  code: Schema.Int,
  reason: Schema.optionalKey(Schema.String),
  message: Schema.String
})

/** The response part of an answer. `patch` is base64 of a JSON array of RFC 6902 ops. */
export const AdmissionResponse = Schema.Struct({
  uid: Schema.String,
  allowed: Schema.Boolean,
  status: Schema.optionalKey(ResponseStatus),
  patchType: Schema.optionalKey(Schema.Literal("JSONPatch")),
  patch: Schema.optionalKey(Schema.String),
  auditAnnotations: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  warnings: Schema.optionalKey(Schema.Array(Schema.String))
})
export type AdmissionResponse = typeof AdmissionResponse.Type

/** The AdmissionReview every answer is. */
export const AdmissionReviewResponse = Schema.Struct({
  apiVersion: Schema.Literals(SupportedVersions),
  kind: Schema.Literal("AdmissionReview"),
  response: AdmissionResponse
})
export type AdmissionReviewResponse = typeof AdmissionReviewResponse.Type

/** BASE64_JSON_PATCH: `response.patch` decoded into its ops (the `mutate` command and tests read answers with it). */
export const Base64JsonPatch = Schema.StringFromBase64.pipe(
  Schema.decodeTo(Schema.fromJsonString(Schema.Array(Schema.Struct({
    op: Schema.Literal("add"),
    path: Schema.String,
    value: Schema.Unknown
  }))))
)

/** The request as the Mutator uses it: envelope fields flattened, `object` raw (undefined unless a JSON object). */
export interface AdmissionRequest {
  readonly apiVersion: AdmissionVersion
  readonly uid: string
  readonly operation: string
  readonly kind: string
  readonly resource: string
  readonly subResource: string
  readonly namespace: string
  readonly dryRun: boolean
  readonly object: JsonObject | undefined
}

/** Problem: why a body is not an AdmissionReview we can answer, with what could be read of it. */
export interface Problem {
  readonly message: string
  readonly uid?: string
  readonly apiVersion?: AdmissionVersion
}

const decodeReview = Schema.decodeUnknownExit(AdmissionReviewRequest)
const formatIssues = SchemaIssue.makeFormatterStandardSchemaV1()

/** At most this many schema problems are listed in one message (the rest are counted). */
const MAX_LISTED = 5

/** pathKey: one segment of an issue's path as a plain key. */
const pathKey = (segment: unknown): PropertyKey =>
  typeof segment === "object" && segment !== null && "key" in segment ? (segment.key as PropertyKey) : (segment as PropertyKey)

const describePath = (path: ReadonlyArray<unknown>): string => path.map((segment) => String(pathKey(segment))).join(".")

const valueAt = (body: unknown, path: ReadonlyArray<unknown>): unknown =>
  path.reduce<unknown>(
    (value, segment) => (typeof value === "object" && value !== null ? (value as Record<PropertyKey, unknown>)[pathKey(segment)] : undefined),
    body
  )

/** MAX_SHOWN: characters of an offending value quoted in a message (a 6 MB field must not become a 6 MB answer). */
const MAX_SHOWN = 64

const show = (value: unknown): string => {
  if (Array.isArray(value)) return "an array"
  if (typeof value === "object" && value !== null) return "an object"
  const text = JSON.stringify(value) ?? String(value)
  return text.length <= MAX_SHOWN ? text : `${text.slice(0, MAX_SHOWN)}...(${text.length} characters)`
}

/**
 * describeIssue: `apiVersion: Expected "admission.k8s.io/v1" | "admission.k8s.io/v1beta1", got "v2"; request.uid is
 * missing`, at most MAX_LISTED problems. An offending value is quoted only up to MAX_SHOWN characters.
 */
const describeIssue = (body: unknown, issue: SchemaIssue.Issue): string => {
  const issues = formatIssues(issue).issues
  const listed = issues.slice(0, MAX_LISTED).map((i) => {
    const path = i.path ?? []
    const at = path.length === 0 ? "body" : describePath(path)
    return i.message === "Missing key" ? `${at} is missing` : `${at}: ${i.message}, got ${show(valueAt(body, path))}`
  })
  const more = issues.length > MAX_LISTED ? `; and ${issues.length - MAX_LISTED} more` : ""
  return `${listed.join("; ")}${more}`
}

const isJsonObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** decodeRequest decodes an AdmissionReview body with the schema. */
export const decodeRequest = (body: unknown): AdmissionRequest | Problem => {
  if (!isJsonObject(body)) return { message: "body is not a JSON object" }
  // The first problem is enough to know the body is bad (and costs less on every good review); the message then
  // lists every problem, so a failed body is decoded a second time for all of them.
  const decoded = decodeReview(body)
  if (Exit.isFailure(decoded)) {
    const all = decodeReview(body, { errors: "all" })
    const error = (Exit.isFailure(all) ? all : decoded).cause.reasons.find((r) => r._tag === "Fail")
    const message = error === undefined ? "not an AdmissionReview" : describeIssue(body, error.error.issue)
    const who = identify(body)
    return who === undefined ? { message } : { message, uid: who.uid, apiVersion: who.apiVersion }
  }
  const review = decoded.value
  const request = review.request
  return {
    apiVersion: review.apiVersion,
    uid: request.uid,
    operation: request.operation,
    kind: request.kind.kind,
    resource: request.resource.resource,
    subResource: request.subResource ?? "",
    namespace: request.namespace ?? "",
    dryRun: request.dryRun === true,
    object: isJsonObject(request.object) ? request.object : undefined
  }
}

export const isProblem = (value: AdmissionRequest | Problem): value is Problem => "message" in value

/** Response fields beyond uid and allowed. */
export interface ResponseParts {
  readonly allowed: boolean
  readonly patch?: ReadonlyArray<JsonPatchOp>
  readonly status?: { readonly code: number; readonly reason: string; readonly message: string }
  readonly warnings?: ReadonlyArray<string>
  readonly auditAnnotations?: Readonly<Record<string, string>>
}

/**
 * Bounds on what an answer copies from a request: a message, a warning or an audit annotation names annotations
 * and secret groups, which a Pod's author chooses (the API server validates the Pod only after the mutating
 * webhooks ran), so a 6 MB annotation key must not make a 6 MB answer.
 */
export const MAX_MESSAGE = 4096
export const MAX_WARNINGS = 20
export const MAX_WARNING = 1024

const cut = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max)}...(${text.length} characters)`

/** respond builds the AdmissionReview answer; an empty patch, empty warnings and empty annotations are left out. */
export const respond = (apiVersion: AdmissionVersion, uid: string, parts: ResponseParts): AdmissionReviewResponse => {
  const response: {
    -readonly [K in keyof AdmissionResponse]: AdmissionResponse[K]
  } = { uid, allowed: parts.allowed }
  if (parts.status !== undefined) response.status = { ...parts.status, message: cut(parts.status.message, MAX_MESSAGE) }
  if (parts.patch !== undefined && parts.patch.length > 0) {
    response.patchType = "JSONPatch"
    response.patch = Buffer.from(JSON.stringify(parts.patch)).toString("base64")
  }
  if (parts.auditAnnotations !== undefined) {
    let audit: Record<string, string> | undefined
    for (const key of Object.keys(parts.auditAnnotations)) (audit ??= {})[key] = cut(parts.auditAnnotations[key]!, MAX_MESSAGE)
    if (audit !== undefined) response.auditAnnotations = audit
  }
  if (parts.warnings !== undefined && parts.warnings.length > 0) {
    const warnings = parts.warnings.slice(0, MAX_WARNINGS).map((w) => cut(w, MAX_WARNING))
    if (parts.warnings.length > MAX_WARNINGS) warnings.push(`...and ${parts.warnings.length - MAX_WARNINGS} more warnings`)
    response.warnings = warnings
  }
  return { apiVersion, kind: "AdmissionReview", response }
}

/** denial: `allowed: false` with a 403 status; the API server refuses the object whatever its failurePolicy. */
export const denial = (message: string) => ({ code: 403, reason: "Forbidden", message })
