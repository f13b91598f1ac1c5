/**
 * Mutator: AdmissionReview in, AdmissionReview out. The only place that maps engine outcomes to
 * allowed / denied / patched / errored. HTTP code and the `mutate` command both call `review`.
 */
import { Context, Data, type Effect, Layer } from "effect"
import type { MutationResult } from "./MutationResult.ts"

/** BadReview: the body is not an AdmissionReview we can answer in-band (no request or no uid). */
export class BadReview extends Data.TaggedError("BadReview")<{
  readonly message: string
  /** The request uid when it could be read, so the HTTP layer can still answer AdmissionReview-shaped. */
  readonly uid?: string
  readonly apiVersion?: string
}> {}

export interface MutatorShape {
  /** review answers one parsed AdmissionReview body (v1 or v1beta1). Never fails except for BadReview. */
  readonly review: (body: unknown) => Effect.Effect<MutationResult, BadReview>
}

export class Mutator extends Context.Service<Mutator, MutatorShape>()("flyte-pod-webhook/admission/Mutator") {
  /** layerTest: a Mutator answering with the given function (HTTP tests use it). */
  static readonly layerTest = (review: MutatorShape["review"]) => Layer.succeed(Mutator, Mutator.of({ review }))
}
