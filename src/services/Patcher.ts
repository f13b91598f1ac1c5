/**
 * Patcher: the service over the pure core in src/domain/Patcher.ts (pod + plan -> minimal RFC 6902 ops on the
 * raw object, and the secrets a plan would not deliver) and src/domain/PatchEstimate.ts (the patch's size,
 * estimated before any op is built). A service so that the engine's steps are named spans when tracing is on,
 * and so that tests can replace it; the work itself is plain synchronous computation.
 */
import { Context, Effect, Layer } from "effect"
import { estimatePatch, type PatchEstimate } from "../domain/PatchEstimate.ts"
import { type PatchPlan, planPatch } from "../domain/Patcher.ts"
import type { PodEdit } from "../domain/PodEdit.ts"
import { WebhookConfig } from "../WebhookConfig.ts"
import { spans, tracingEnabled } from "./Spans.ts"

export interface PatcherShape {
  /** estimate: an upper bound of the patch's size, and its parts, without building it. */
  readonly estimate: (pod: unknown, edits: ReadonlyArray<PodEdit>) => Effect.Effect<PatchEstimate>
  /** plan: the ops that apply `edits` to `pod`, and the secrets they would not deliver as asked. */
  readonly plan: (pod: unknown, edits: ReadonlyArray<PodEdit>) => Effect.Effect<PatchPlan>
}

const make = (traced: boolean): PatcherShape => {
  const op = spans(traced)
  return {
    estimate: op.sync("Patcher.estimate", (pod: unknown, edits: ReadonlyArray<PodEdit>) => estimatePatch(pod, edits)),
    plan: op.sync("Patcher.plan", (pod: unknown, edits: ReadonlyArray<PodEdit>) => planPatch(pod, edits))
  }
}

export class Patcher extends Context.Service<Patcher, PatcherShape>()("flyte-pod-webhook/services/Patcher") {
  /** layer: the pure core, with spans when `webhook.otlpEndpoint` is set. */
  static readonly layer = Layer.effect(
    Patcher,
    Effect.map(WebhookConfig, (config) => Patcher.of(make(tracingEnabled(config.webhook))))
  )

  /** pure: the pure core without spans and without config (tests, the offline engine). */
  static readonly pure: PatcherShape = make(false)

  /** layerTest: a Patcher of the test's own. */
  static readonly layerTest = (patcher: PatcherShape) => Layer.succeed(Patcher, Patcher.of(patcher))
}
