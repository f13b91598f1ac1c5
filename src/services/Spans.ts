/**
 * Spans: service operations as Effects that are named spans (`Mutator.review`, `SecretLookup.resolve`,
 * `Patcher.plan`, Registrar and CertService steps) only when tracing is configured (`webhook.otlpEndpoint`).
 *
 * Two costs measured on this stack decide the shape. `Effect.fn` costs 5-10 µs per call even with the tracer
 * disabled (it still builds a span and captures a call site; `node bench/effectCosts.ts`). And every Effect
 * operation a request runs costs far more in the server than in a microbenchmark: the runtime's dispatch sees
 * every kind of operation there and runs megamorphic. The engine split into an Effect per secret and per plan
 * step (generators) cost ~130 µs per review in the server against ~20 µs for the same pure work run as one
 * Effect (docs/serve.md, "Where the time goes"). So an operation over pure code is one `Effect.sync` when
 * tracing is off, and a span around it when on: with no OTLP endpoint, tracing costs nothing.
 */
import { Effect, Exit } from "effect"

export interface Spans {
  /** fn(name): `Effect.fn(name)` when tracing is on, else `Effect.fnUntraced` (for effectful operations). */
  readonly fn: (name: string) => Effect.fn.Untraced
  /** sync(name, f): `f` as an operation of one `Effect.sync`, in a span `name` when tracing is on. */
  readonly sync: <Args extends ReadonlyArray<unknown>, A>(name: string, f: (...args: Args) => A) => (...args: Args) => Effect.Effect<A>
}

/** spans(enabled): the span helpers for a service, tracing or not. */
export const spans = (enabled: boolean): Spans => ({
  fn: (name) => (enabled ? Effect.fn(name) : Effect.fnUntraced),
  sync: (name, f) =>
    enabled
      ? (...args) => Effect.withSpan(Effect.sync(() => f(...args)), name)
      : (...args) => Exit.succeed(f(...args))
})

/** tracingEnabled: whether the config asks for traces. */
export const tracingEnabled = (webhook: { readonly otlpEndpoint: string | undefined }): boolean =>
  webhook.otlpEndpoint !== undefined
