/**
 * Answers: the one module that maps outcomes to answers: the engine's decisions (patched, unchanged, denied, or
 * admitted with an error under `onInjectionError: admit`), the deadline, and refusals (a limit, a malformed
 * request). Two shapes only:
 * - an AdmissionReview (`apiVersion`, `kind`, `response.uid`) whenever the request's uid is known, so the API
 *   server (and a human reading its log) sees which call failed and why, and an in-band refusal refuses the Pod
 *   whatever the webhook's failurePolicy;
 * - otherwise a Kubernetes `Status` (`kind: Status`, `status: Failure`, `code`, `reason`, `message`), the shape
 *   the API server itself uses for errors.
 * Every body is built by AdmissionReview.respond (bounded, schema-typed) or `status` here.
 */
import { InjectedSecretsAudit, ShadowedSecretsAudit } from "../domain/FlyteNames.ts"
import type { OnInjectionError } from "../WebhookConfig.ts"
import { type AdmissionRequest, type AdmissionReviewResponse, denial, respond } from "./AdmissionReview.ts"
import type { Decision } from "./Mutation.ts"
import type { Outcome } from "./MutationResult.ts"
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

/** Answered: an engine decision as an answer, with its outcome and, for a failure, the message. */
export interface Answered {
  readonly outcome: Outcome
  readonly review: AdmissionReviewResponse
  readonly message?: string
}

const auditOf = (decision: Decision): Record<string, string> => {
  const audit: Record<string, string> = {}
  if (decision.injected.length > 0) audit[InjectedSecretsAudit] = decision.injected.join(",")
  if (decision.shadowed.length > 0) audit[ShadowedSecretsAudit] = decision.shadowed.join(",")
  return audit
}

/**
 * decided maps the engine's decision to the answer: patched and unchanged are allowed (with the patch, the
 * annotation warnings and the audit of what was injected); a failure is denied (403 with the reasons), or under
 * `onInjectionError: admit` allowed with what could still be injected and a warning saying what was not.
 */
export const decided = (request: AdmissionRequest, decision: Decision, onInjectionError: OnInjectionError): Answered => {
  const { apiVersion, uid } = request
  if (decision.outcome !== "failed") {
    return {
      outcome: decision.outcome,
      review: respond(apiVersion, uid, { allowed: true, patch: decision.patch, warnings: decision.warnings, auditAnnotations: auditOf(decision) })
    }
  }
  const message = `flyte-pod-webhook: ${decision.reason ?? "a secret could not be injected"}`
  if (onInjectionError !== "admit") {
    return {
      outcome: "denied",
      message,
      review: respond(apiVersion, uid, { allowed: false, status: denial(message), warnings: decision.warnings })
    }
  }
  const without = decision.missing === "all" || decision.missing === undefined
    ? "secrets"
    : decision.missing === 1 ? "it" : "them"
  return {
    outcome: "error",
    message,
    review: respond(apiVersion, uid, {
      allowed: true,
      patch: decision.patch,
      warnings: [...decision.warnings, `${message}; admitted without ${without} (webhook.onInjectionError: admit)`],
      auditAnnotations: auditOf(decision)
    })
  }
}
