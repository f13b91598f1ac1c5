/**
 * Mutator: AdmissionReview in, AdmissionReview out, as one Effect: the body is decoded with the AdmissionReview
 * schema (src/admission/AdmissionReview.ts), the decision is made by Mutation.ts, and the answer comes back with
 * the facts the HTTP layer logs and counts. The HTTP server and the `mutate` command both call `review`.
 */
import { Context, Data, Effect, Layer } from "effect"
import { boundedCache } from "../domain/BoundedCache.ts"
import { decodeSecret } from "../domain/SecretAnnotation.ts"
import { SecretLookup } from "../services/SecretLookup.ts"
import { spans, tracingEnabled } from "../services/Spans.ts"
import { WebhookConfig } from "../WebhookConfig.ts"
import { type AdmissionVersion, decodeRequest, isProblem } from "./AdmissionReview.ts"
import { mutate } from "./Mutation.ts"
import type { MutationResult } from "./MutationResult.ts"

/** BadReview: the body is not an AdmissionReview we can answer in-band (no request or no uid). */
export class BadReview extends Data.TaggedError("BadReview")<{
  readonly message: string
  /** The request uid when it could be read, so the HTTP layer can still answer AdmissionReview-shaped. */
  readonly uid?: string
  readonly apiVersion?: AdmissionVersion
}> {}

export interface MutatorShape {
  /** review answers one parsed AdmissionReview body (v1 or v1beta1). Never fails except for BadReview. */
  readonly review: (body: unknown) => Effect.Effect<MutationResult, BadReview>
}

export class Mutator extends Context.Service<Mutator, MutatorShape>()("flyte-pod-webhook/admission/Mutator") {
  /** layerNoDeps: the real Mutator over SecretLookup and WebhookConfig. */
  static readonly layerNoDeps = Layer.effect(
    Mutator,
    Effect.gen(function*() {
      const lookup = yield* SecretLookup
      const config = yield* WebhookConfig
      // Annotation values repeat across Pods (every Pod of a task asks for the same secrets): decode each once.
      const engine = { lookup, onInjectionError: config.webhook.onInjectionError, decode: boundedCache(4096, decodeSecret) }
      const fn = spans(tracingEnabled(config.webhook))
      return Mutator.of({
        review: fn("Mutator.review")(function*(body: unknown) {
          const request = decodeRequest(body)
          if (isProblem(request)) return yield* new BadReview(request)
          return mutate(request, engine)
        })
      })
    })
  )

  /** layer: the real Mutator with the configured managers (needs WebhookConfig). */
  static readonly layer = Mutator.layerNoDeps.pipe(Layer.provide(SecretLookup.layer))

  /** layerTest: a Mutator answering with the given function (HTTP tests use it). */
  static readonly layerTest = (review: MutatorShape["review"]) => Layer.succeed(Mutator, Mutator.of({ review }))
}
