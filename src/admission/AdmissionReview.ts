/**
 * AdmissionReview: the wire format of `admission.k8s.io/v1` and `v1beta1`, both directions.
 *
 * Decoding reads only what the Mutator uses (measured: schema-decoding the whole review cost ~10% of
 * throughput), checked by hand so a malformed body yields a precise message. Responses echo the request's
 * apiVersion, kind and uid, as the API server requires (apiserver-contract.md, "The answer").
 */
import type { JsonPatchOp } from "../domain/JsonPatch.ts"
import { isObject } from "../domain/Pod.ts"
import type { JsonObject } from "../domain/PodEdit.ts"

export const SupportedVersions = ["admission.k8s.io/v1", "admission.k8s.io/v1beta1"] as const
export type AdmissionVersion = (typeof SupportedVersions)[number]

/** The request fields we read. `object` stays raw: patches are computed against it as received. */
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

const str = (value: unknown): string => (typeof value === "string" ? value : "")

/** Problem: why a body is not an AdmissionReview we can answer, with what could be read of it. */
export interface Problem {
  readonly message: string
  readonly uid?: string
  readonly apiVersion?: string
}

/** decodeRequest reads an AdmissionReview body. */
export const decodeRequest = (body: unknown): AdmissionRequest | Problem => {
  if (!isObject(body)) return { message: "body is not a JSON object" }
  const apiVersion = body["apiVersion"]
  const request = body["request"]
  const uid = isObject(request) && typeof request["uid"] === "string" ? request["uid"] : undefined
  const known = { ...(uid === undefined ? {} : { uid }), ...(typeof apiVersion === "string" ? { apiVersion } : {}) }
  if (!SupportedVersions.includes(apiVersion as AdmissionVersion)) {
    return { ...known, message: `apiVersion must be one of ${SupportedVersions.join(", ")}, got ${JSON.stringify(apiVersion)}` }
  }
  if (body["kind"] !== "AdmissionReview") {
    return { ...known, message: `kind must be AdmissionReview, got ${JSON.stringify(body["kind"])}` }
  }
  if (!isObject(request)) return { ...known, message: "request is missing or not an object" }
  if (uid === undefined || uid === "") return { ...known, message: "request.uid is missing" }
  const object = request["object"]
  return {
    apiVersion: apiVersion as AdmissionVersion,
    uid,
    operation: str(request["operation"]),
    kind: str(isObject(request["kind"]) ? request["kind"]["kind"] : undefined),
    resource: str(isObject(request["resource"]) ? request["resource"]["resource"] : undefined),
    subResource: str(request["subResource"]),
    namespace: str(request["namespace"]),
    dryRun: request["dryRun"] === true,
    object: isObject(object) ? object : undefined
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

/** respond builds the AdmissionReview answer; an empty patch is left out. */
export const respond = (apiVersion: string, uid: string, parts: ResponseParts): JsonObject => {
  const response: Record<string, unknown> = { uid, allowed: parts.allowed }
  if (parts.status !== undefined) response["status"] = parts.status
  if (parts.patch !== undefined && parts.patch.length > 0) {
    response["patchType"] = "JSONPatch"
    response["patch"] = Buffer.from(JSON.stringify(parts.patch)).toString("base64")
  }
  if (parts.auditAnnotations !== undefined && Object.keys(parts.auditAnnotations).length > 0) {
    response["auditAnnotations"] = parts.auditAnnotations
  }
  if (parts.warnings !== undefined && parts.warnings.length > 0) response["warnings"] = parts.warnings
  return { apiVersion, kind: "AdmissionReview", response }
}

/** denial: `allowed: false` with a 403 status; the API server refuses the object whatever its failurePolicy. */
export const denial = (message: string) => ({ code: 403, reason: "Forbidden", message })
