/**
 * Answers: what the webhook answers when it does not get as far as a decision of the engine, as data:
 * refusals (a limit, a malformed request) and the deadline. Two shapes only:
 * - an AdmissionReview (`apiVersion`, `kind`, `response.uid`) whenever the request's uid is known, so the API
 *   server (and a human reading its log) sees which call failed and why, and an in-band refusal refuses the Pod
 *   whatever the webhook's failurePolicy;
 * - otherwise a Kubernetes `Status` (`kind: Status`, `status: Failure`, `code`, `reason`, `message`), the shape
 *   the API server itself uses for errors.
 * The engine's own outcomes (patched, unchanged, denied, error) are answered by Mutation.ts with `respond`.
 */
import type { OnInjectionError } from "../WebhookConfig.ts"
import { type AdmissionReviewResponse, respond } from "./AdmissionReview.ts"
import type { ReviewIdentity } from "./ReviewIdentity.ts"

/** KubeStatus: a metav1.Status failure. */
export interface KubeStatus {
  readonly kind: "Status"
  readonly apiVersion: "v1"
  readonly metadata: Record<string, never>
  readonly status: "Failure"
  readonly message: string
  readonly reason: string
  readonly code: number
}

export type AnswerBody = AdmissionReviewResponse | KubeStatus

/** status builds a Status failure. */
export const status = (code: number, reason: string, message: string): KubeStatus => ({
  kind: "Status",
  apiVersion: "v1",
  metadata: {},
  status: "Failure",
  message,
  reason,
  code
})

/** refusal: AdmissionReview-shaped (not allowed, the code and message) when the uid is known, else a Status. */
export const refusal = (who: ReviewIdentity | undefined, code: number, reason: string, message: string): AnswerBody =>
  who === undefined
    ? status(code, reason, message)
    : respond(who.apiVersion, who.uid, { allowed: false, status: { code, reason, message } })

/**
 * deadline: the answer when the review did not finish in time. With the uid known it is in-band: refused
 * (the caller retries), or under `onInjectionError: admit` admitted unchanged with a warning; before the uid is
 * read it can only be a 504 Status.
 */
export const deadline = (who: ReviewIdentity | undefined, onInjectionError: OnInjectionError, seconds: number): AnswerBody => {
  const message = `flyte-pod-webhook did not finish within ${seconds.toFixed(1)}s (the API server's timeout less a margin)`
  if (who === undefined) return status(504, "Timeout", message)
  return onInjectionError === "admit"
    ? respond(who.apiVersion, who.uid, { allowed: true, warnings: [`${message}; admitted without injecting secrets`] })
    : respond(who.apiVersion, who.uid, {
      allowed: false,
      status: { code: 504, reason: "Timeout", message: `${message}; the Pod was not created, retry` }
    })
}
