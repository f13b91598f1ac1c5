/**
 * Responses: every answer the admission listener writes. Two shapes only:
 * - an AdmissionReview (`apiVersion`, `kind`, `response.uid`) whenever the request's uid is known, so the API
 *   server (and a human reading its log) sees which call failed and why;
 * - otherwise a Kubernetes `Status` object (`kind: Status`, `status: Failure`, `code`, `reason`, `message`),
 *   the shape the API server itself uses for errors.
 * Never a redirect (the API server must not be sent elsewhere; CVE-2020-8561), never an empty body.
 */
import type { Exchange, ResponseHeaders } from "./Http1.ts"

/** What is known about the review a request carries, for an AdmissionReview-shaped error. */
export interface ReviewIdentity {
  readonly uid: string
  readonly apiVersion: string
}

const V1 = "admission.k8s.io/v1"
const V1BETA1 = "admission.k8s.io/v1beta1"

/** identify reads `request.uid` and `apiVersion` from a parsed body, without trusting its shape. */
export const identify = (body: unknown): ReviewIdentity | undefined => {
  if (typeof body !== "object" || body === null) return undefined
  const request = (body as { request?: unknown }).request
  if (typeof request !== "object" || request === null) return undefined
  const uid = (request as { uid?: unknown }).uid
  if (typeof uid !== "string" || uid.length === 0) return undefined
  const apiVersion = (body as { apiVersion?: unknown }).apiVersion
  return { uid, apiVersion: apiVersion === V1BETA1 ? V1BETA1 : V1 }
}

const JSON_TYPE: ResponseHeaders = { "content-type": "application/json" }

/** sendJson writes a complete JSON answer (`connection: close` in `extra` ends the connection after it). */
export const sendJson = (to: Exchange, status: number, body: string, extra?: ResponseHeaders) =>
  to.respond(status, extra === undefined ? JSON_TYPE : { ...JSON_TYPE, ...extra }, body)

/** statusBody is a Kubernetes `Status` failure. */
export const statusBody = (code: number, reason: string, message: string): string =>
  JSON.stringify({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code })

/** reviewError is an AdmissionReview that refuses the request with `code` and `message`. */
export const reviewError = (who: ReviewIdentity, code: number, message: string): string =>
  JSON.stringify({
    apiVersion: who.apiVersion,
    kind: "AdmissionReview",
    response: { uid: who.uid, allowed: false, status: { code, message } }
  })

/** reviewAdmitWithWarning admits the request unchanged with a warning (`onInjectionError: admit`). */
export const reviewAdmitWithWarning = (who: ReviewIdentity, warning: string): string =>
  JSON.stringify({
    apiVersion: who.apiVersion,
    kind: "AdmissionReview",
    response: { uid: who.uid, allowed: true, warnings: [warning] }
  })

/** errorBody: AdmissionReview-shaped when the uid is known, else a Status. */
export const errorBody = (code: number, reason: string, message: string, who?: ReviewIdentity): string =>
  who === undefined ? statusBody(code, reason, message) : reviewError(who, code, message)

/** sendError answers with errorBody. */
export const sendError = (
  to: Exchange,
  code: number,
  reason: string,
  message: string,
  who?: ReviewIdentity,
  extra?: ResponseHeaders
) => sendJson(to, code, errorBody(code, reason, message, who), extra)
