/**
 * Spans: `Effect.fn` with a span name for the service operations worth a span (Mutator.review,
 * SecretLookup.resolve, Patcher.plan, Registrar and CertService steps), only when tracing is configured
 * (`webhook.otlpEndpoint`). `Effect.fn` costs 5-10 µs per call even with the tracer disabled (it still builds a
 * span and captures a call site; `node bench/effectCosts.ts`), against ~1 µs for `Effect.fnUntraced`, on a
 * request path whose whole budget is about 100 µs: with no OTLP endpoint, tracing costs nothing.
 */
import { Effect } from "effect"

/** spans(enabled)(name) is `Effect.fn(name)` when tracing is on, else `Effect.fnUntraced`. */
export const spans = (enabled: boolean) => (name: string): Effect.fn.Untraced =>
  enabled ? Effect.fn(name) : Effect.fnUntraced

/** tracingEnabled: whether the config asks for traces. */
export const tracingEnabled = (webhook: { readonly otlpEndpoint: string | undefined }): boolean =>
  webhook.otlpEndpoint !== undefined
