/**
 * ReviewIdentity: the one place that reads which review a body carries (`request.uid` and `apiVersion`) before
 * it is decoded, so that every answer about it, even a refusal of a malformed body or a deadline, can still be
 * an AdmissionReview with that uid: the API server then reports which call failed and why, and an in-band
 * refusal refuses the Pod whatever the webhook's failurePolicy.
 */
import type { AdmissionVersion } from "./AdmissionReview.ts"

/** What is known about the review a request carries. */
export interface ReviewIdentity {
  readonly uid: string
  readonly apiVersion: AdmissionVersion
}

/**
 * A uid longer than this is not echoed: Kubernetes uids are 36-character UUIDs, and an answer must not copy
 * an unbounded request field (a 6 MB uid would make a 6 MB answer and log line).
 */
export const MAX_UID_LENGTH = 256

/** identify reads `request.uid` and `apiVersion` from a parsed body, without trusting its shape. */
export const identify = (body: unknown): ReviewIdentity | undefined => {
  if (typeof body !== "object" || body === null) return undefined
  const request = (body as { readonly request?: unknown }).request
  if (typeof request !== "object" || request === null) return undefined
  const uid = (request as { readonly uid?: unknown }).uid
  if (typeof uid !== "string" || uid.length === 0 || uid.length > MAX_UID_LENGTH) return undefined
  const apiVersion = (body as { readonly apiVersion?: unknown }).apiVersion
  return { uid, apiVersion: apiVersion === "admission.k8s.io/v1beta1" ? "admission.k8s.io/v1beta1" : "admission.k8s.io/v1" }
}
