/**
 * Mutator: AdmissionReview in, AdmissionReview out, as one Effect: the body is decoded with the AdmissionReview
 * schema (src/admission/AdmissionReview.ts), the decision is made by Mutation.ts, and the answer comes back with
 * the facts the HTTP layer logs and counts. The HTTP server and the `mutate` command both call `review`.
 */
import { Context, Data, Effect, Exit, Layer } from "effect"
import { boundedCache } from "../domain/BoundedCache.ts"
import { decodeSecret } from "../domain/SecretAnnotation.ts"
import { podIdentity } from "../domain/Pod.ts"
import { Patcher } from "../services/Patcher.ts"
import { SecretLookup } from "../services/SecretLookup.ts"
import { tracingEnabled } from "../services/Spans.ts"
import { WebhookConfig } from "../WebhookConfig.ts"
import { type AdmissionVersion, decodeRequest, isProblem } from "./AdmissionReview.ts"
import { decided } from "./Answers.ts"
import { decide, type RunStep, runNow } from "./Mutation.ts"
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
  /** layerNoDeps: the real Mutator over SecretLookup, Patcher and WebhookConfig. */
  static readonly layerNoDeps = Layer.effect(
    Mutator,
    Effect.gen(function*() {
      const lookup = yield* SecretLookup
      const patcher = yield* Patcher
      const { webhook } = yield* WebhookConfig
      // Annotation values repeat across Pods (every Pod of a task asks for the same secrets): decode each once.
      const engine = { lookup, patcher, maxPatchBytes: webhook.maxPatchBytes, decode: boundedCache(4096, decodeSecret) }
      // Untraced, a review is one Effect operation over plain computation (Mutation.ts, RunStep): the services'
      // operations are read, not run. Traced, it is a span, and each service operation a span inside it.
      const answer = (body: unknown, run: RunStep): Exit.Exit<MutationResult, BadReview> => {
        const request = decodeRequest(body)
        if (isProblem(request)) return Exit.fail(new BadReview(request))
        const decision = decide(request, engine, run)
        const answered = decided(request, decision, webhook.onInjectionError)
        const pod = podIdentity(request.object)
        return Exit.succeed({
          ...answered,
          uid: request.uid,
          namespace: pod.namespace || request.namespace,
          pod: pod.name,
          secrets: decision.secrets,
          managers: decision.managers,
          ...(decision.shadowed.length > 0 ? { shadowed: decision.shadowed } : {})
        })
      }
      const review = tracingEnabled(webhook)
        ? Effect.fn("Mutator.review")(function*(body: unknown) {
          const context = yield* Effect.context<never>()
          return yield* answer(body, Effect.runSyncWith(context))
        })
        : (body: unknown): Effect.Effect<MutationResult, BadReview> =>
          // Lazy, as an Effect is: the review runs when its caller runs it (after taking a slot), not when asked.
          Effect.suspend(() => answer(body, runNow))
      return Mutator.of({ review })
    })
  )

  /** layer: the real Mutator with the configured managers (needs WebhookConfig). */
  static readonly layer = Mutator.layerNoDeps.pipe(Layer.provide([SecretLookup.layer, Patcher.layer]))

  /** layerTest: a Mutator answering with the given function (HTTP tests use it). */
  static readonly layerTest = (review: MutatorShape["review"]) => Layer.succeed(Mutator, Mutator.of({ review }))
}
