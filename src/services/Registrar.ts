/**
 * Registrar: keeps the MutatingWebhookConfiguration (registrar/WebhookManifest.ts) registered and its caBundle
 * equal to the shared CA bundle, and owns the readiness gate `registration`.
 *
 * `run` is started by `serve` once the TLS listener accepts (the API server must never be pointed at a
 * webhook that cannot answer yet). It registers at once, then re-reads the local bundle every few seconds
 * (a CA change is published within one poll) and re-checks the live object every
 * `webhook.registrationCheckInterval` (drift: someone edited or deleted it). A check reads first and writes
 * only on a difference, so replicas converge on one object without writes or flapping. Refused (RBAC) or
 * unreachable: the gate stays closed with the reason, a warning names what is missing, and it retries with
 * backoff (1 s doubling to 60 s); it never exits, so the Pod is unready rather than crash-looping.
 *
 * Modes (config): `full` (default) applies the whole object; `caBundleOnly`
 * (`disableCreateMutatingWebhookConfig` + `manageCaBundleOnly`, for GitOps) only patches caBundle of an existing
 * object; `off` (`disableCreateMutatingWebhookConfig` alone) touches nothing.
 */
import { Clock, Context, Data, Duration, Effect, Layer } from "effect"
import type { KubeError } from "../kube/KubeErrors.ts"
import { KubeClient } from "../kube/KubeClient.ts"
import { WebhookConfig, type WebhookSettings } from "../WebhookConfig.ts"
import { CaBundle } from "./certs/CaBundle.ts"
import { Readiness } from "./Readiness.ts"
import { caBundlePatch, desiredConfiguration, differences } from "./registrar/WebhookManifest.ts"

export type RegistrationMode = "full" | "caBundleOnly" | "off"

/** RegistrationDefect: a bug met while registering, retried like any failure. */
export class RegistrationDefect extends Data.TaggedError("RegistrationDefect")<{ readonly message: string }> {}

export const registrationMode = (webhook: WebhookSettings): RegistrationMode =>
  !webhook.disableCreateMutatingWebhookConfig ? "full" : webhook.manageCaBundleOnly ? "caBundleOnly" : "off"

export type RegisterOutcome =
  | { readonly _tag: "Applied"; readonly created: boolean; readonly differences: ReadonlyArray<string> }
  | { readonly _tag: "Patched"; readonly webhooks: number }
  | { readonly _tag: "Unchanged" }
  | { readonly _tag: "Absent" }
  | { readonly _tag: "Disabled" }

export interface RegistrarShape {
  readonly mode: RegistrationMode
  /** register: one check-and-write with this bundle. */
  readonly register: (caBundlePem: string) => Effect.Effect<RegisterOutcome, KubeError>
  /** run: keep registration current for the life of the fiber (fork it after the listener accepts). */
  readonly run: Effect.Effect<never>
}

export interface RegistrarTiming {
  /** How often the local CA bundle is re-read. Default 5 s. */
  readonly bundlePoll: Duration.Input
  /** First retry delay after a failure (doubling). Default 1 s. */
  readonly backoff: Duration.Input
  /** Longest retry delay. Default 60 s. */
  readonly maxBackoff: Duration.Input
}

export const DefaultRegistrarTiming: RegistrarTiming = { bundlePoll: "5 seconds", backoff: "1 second", maxBackoff: "60 seconds" }

/** Gate: the readiness gate this service owns. */
export const Gate = "registration"

/** describeFailure: what is missing, for the readiness reason and the warning. */
export const describeFailure = (
  error: KubeError | RegistrationDefect | { readonly _tag: "CaBundleError"; readonly message: string }
): string => {
  switch (error._tag) {
    case "Forbidden":
      return `forbidden by RBAC: ${error.hint}`
    case "Unavailable":
      return `API server unavailable: ${error.message}`
    case "CaBundleError":
      return `no CA bundle to register: ${error.message}`
    default:
      return error.message
  }
}

/** unregister: delete the configuration (`flyte-pod-webhook unregister`); an absent one is fine. */
export const unregister = Effect.gen(function*() {
  const { webhook } = yield* WebhookConfig
  const kube = yield* KubeClient
  return yield* kube.deleteWebhookConfiguration(webhook.serviceName).pipe(
    Effect.as("deleted" as const),
    Effect.catchTag("NotFound", () => Effect.succeed("absent" as const))
  )
})

const make = (timing: RegistrarTiming) =>
  Effect.gen(function*() {
    const config = yield* WebhookConfig
    const kube = yield* KubeClient
    const readiness = yield* Readiness
    const bundles = yield* CaBundle
    const mode = registrationMode(config.webhook)
    const name = config.webhook.serviceName

    const applyFull = (caBundlePem: string) =>
      Effect.gen(function*() {
        const desired = desiredConfiguration(config, caBundlePem)
        const live = yield* kube.getWebhookConfiguration(name).pipe(
          Effect.map((found) => found as typeof found | undefined),
          Effect.catchTag("NotFound", () => Effect.succeed(undefined))
        )
        const diff = live === undefined ? [] : differences(live, desired)
        if (live !== undefined && diff.length === 0) return { _tag: "Unchanged" } as const
        yield* kube.applyWebhookConfiguration(desired)
        return { _tag: "Applied", created: live === undefined, differences: diff } as const
      })

    const patchCaBundle = (caBundlePem: string) =>
      Effect.gen(function*() {
        const live = yield* kube.getWebhookConfiguration(name)
        const ops = caBundlePatch(live, caBundlePem)
        if (ops === undefined) return { _tag: "Unchanged" } as const
        yield* kube.patchWebhookConfiguration(name, ops)
        return { _tag: "Patched", webhooks: ops.length - 1 } as const
      }).pipe(Effect.catchTag("NotFound", () => Effect.succeed({ _tag: "Absent" } as const)))

    const registerIn = (caBundlePem: string): Effect.Effect<RegisterOutcome, KubeError> => {
      switch (mode) {
        case "full":
          return applyFull(caBundlePem)
        case "caBundleOnly":
          return patchCaBundle(caBundlePem)
        case "off":
          return Effect.succeed({ _tag: "Disabled" })
      }
    }
    const register = (caBundlePem: string) =>
      registerIn(caBundlePem).pipe(Effect.withSpan("Registrar.register", { attributes: { mode, name } }))

    const report = (outcome: RegisterOutcome) => {
      switch (outcome._tag) {
        case "Applied":
          return Effect.logInfo(`MutatingWebhookConfiguration ${name} ${outcome.created ? "created" : "updated"}`).pipe(
            Effect.annotateLogs({ fields: outcome.differences.join(",") })
          )
        case "Patched":
          return Effect.logInfo(`MutatingWebhookConfiguration ${name}: caBundle updated in ${outcome.webhooks} webhook(s)`)
        case "Absent":
          return Effect.logWarning(`MutatingWebhookConfiguration ${name} not found; caBundle-only mode creates nothing`)
        default:
          return Effect.logDebug(`MutatingWebhookConfiguration ${name} is current`)
      }
    }

    const run: Effect.Effect<never> = Effect.gen(function*() {
      if (mode === "off") {
        yield* readiness.set(Gate, true, "registration disabled (webhook.disableCreateMutatingWebhookConfig)")
        yield* Effect.logInfo("registration disabled by config: the MutatingWebhookConfiguration is not managed")
        return yield* Effect.never
      }
      yield* readiness.set(Gate, false, "not registered yet")
      const checkMs = config.webhook.registrationCheckSeconds * 1000
      let registered: string | undefined
      let registeredAt = 0
      let failures = 0
      let lastFailure = ""
      let lastOutcome = ""
      while (true) {
        const now = yield* Clock.currentTimeMillis
        const attempt = yield* bundles.current.pipe(
          Effect.flatMap((bundle) =>
            bundle === registered && now - registeredAt < checkMs
              ? Effect.succeed(undefined)
              : Effect.map(register(bundle), (outcome) => ({ bundle, outcome }))
          ),
          // a bug must not end registration for good: it counts as a failed attempt
          Effect.catchDefect((defect) => Effect.fail(new RegistrationDefect({ message: `unexpected error: ${String(defect)}` }))),
          Effect.result
        )
        if (attempt._tag === "Failure") {
          const reason = describeFailure(attempt.failure)
          yield* readiness.set(Gate, false, reason)
          if (reason !== lastFailure) yield* Effect.logWarning(`registration failed: ${reason}; retrying with backoff`)
          lastFailure = reason
          failures++
          const delay = Math.min(Duration.toMillis(timing.backoff) * 2 ** (failures - 1), Duration.toMillis(timing.maxBackoff))
          yield* Effect.sleep(Duration.millis(delay))
          continue
        }
        if (attempt.success !== undefined) {
          const { bundle, outcome } = attempt.success
          if (failures > 0) yield* Effect.logInfo(`registration recovered after ${failures} failed attempt(s)`)
          if (outcome._tag !== "Unchanged" || lastOutcome !== "Unchanged") yield* report(outcome)
          yield* readiness.set(Gate, true, outcome._tag === "Absent" ? `${name} not found (caBundle-only mode)` : "")
          registered = bundle
          registeredAt = now
          failures = 0
          lastFailure = ""
          lastOutcome = outcome._tag
        }
        yield* Effect.sleep(timing.bundlePoll)
      }
    })

    return Registrar.of({ mode, register, run })
  })

export class Registrar extends Context.Service<Registrar, RegistrarShape>()("flyte-pod-webhook/services/Registrar") {
  /** layer: needs WebhookConfig, KubeClient, Readiness and CaBundle. */
  static readonly layer = Layer.effect(Registrar, make(DefaultRegistrarTiming))
  /** layerWith: other poll and backoff timings (tests). */
  static readonly layerWith = (timing: RegistrarTiming) => Layer.effect(Registrar, make(timing))
}
