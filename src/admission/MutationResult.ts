import type { AdmissionReviewResponse } from "./AdmissionReview.ts"

/**
 * MutationResult: what the Mutator decided for one AdmissionReview, ready to send, plus the facts the HTTP
 * layer logs and counts. It never holds a secret value: `secrets` are names (`group/key`).
 */

/** Outcome, as counted in metrics: patched, allowed unchanged, denied, or an error answered in-band. */
export type Outcome = "patched" | "unchanged" | "denied" | "error"

/** ManagerUse counts one secret served (or failed) by one manager, for per-manager metrics. */
export interface ManagerUse {
  readonly manager: string
  readonly ok: boolean
}

export interface MutationResult {
  /** The AdmissionReview to answer with (same apiVersion as the request). */
  readonly review: AdmissionReviewResponse
  readonly outcome: Outcome
  readonly uid: string
  readonly namespace: string
  /** Pod name, or `<generateName>*` for controller-made Pods. */
  readonly pod: string
  /** Requested secrets as names, never values. */
  readonly secrets: ReadonlyArray<string>
  readonly managers: ReadonlyArray<ManagerUse>
  /** Denial or error reason, when not allowed or admitted with an error. */
  readonly message?: string
  /** Requested secrets the Pod's own env vars of the same name shadow (names), when there are any. */
  readonly shadowed?: ReadonlyArray<string>
}
