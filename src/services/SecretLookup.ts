/**
 * SecretLookup: resolve each requested secret through the managers in order (spec section 2): Global first
 * (unless `webhook.globalSecrets: false`), then the configured managers. The first that injects wins; when
 * none does, the failure lists every manager tried with its reason, for the denial message.
 */
import { Context, Effect, Layer } from "effect"
import type { PodEdit } from "../domain/PodEdit.ts"
import type { SecretRequest } from "../domain/SecretRequest.ts"
import { ConfigError, WebhookConfig, type WebhookConfigShape } from "../WebhookConfig.ts"
import { makeGlobalManager } from "./managers/GlobalManager.ts"
import { managerDefinitions } from "./managers/registry.ts"
import type { SecretManager } from "./managers/SecretManager.ts"
import { spans, tracingEnabled } from "./Spans.ts"

/** Resolved: the manager that injected the secret and its edits. */
export interface Resolved {
  readonly _tag: "Resolved"
  readonly manager: string
  readonly edits: ReadonlyArray<PodEdit>
}

/** Attempt: one manager's reason for not injecting. */
export interface Attempt {
  readonly manager: string
  readonly reason: string
}

/** Unresolved: no manager injected the secret; every manager's reason, in order. */
export interface Unresolved {
  readonly _tag: "Unresolved"
  readonly attempts: ReadonlyArray<Attempt>
}

export interface SecretLookupShape {
  /** The managers in the order they are tried, for logs and `/readyz` detail. */
  readonly managers: ReadonlyArray<string>
  /** resolve tries the managers in order (plain computation: managers make no network calls, see SecretManager). */
  readonly resolve: (secret: SecretRequest) => Effect.Effect<Resolved | Unresolved>
}

/** resolveWith tries the managers in order. */
export const resolveWith = (managers: ReadonlyArray<SecretManager>) =>
(secret: SecretRequest): Resolved | Unresolved => {
  const attempts: Array<Attempt> = []
  for (const manager of managers) {
    const result = manager.inject(secret)
    if (result._tag === "Injected") return { _tag: "Resolved", manager: manager.type, edits: result.edits }
    attempts.push({ manager: manager.type, reason: result.reason })
  }
  return { _tag: "Unresolved", attempts }
}

/**
 * How long a resolution is reused for the same request. Managers compute a secret's edits from the config and
 * the request alone, except Global, which reads the mounted secrets (and reuses each read for a second too:
 * GlobalManager.ts); the kubelet takes about a minute to update a mounted Secret, so a second more changes
 * nothing a user can see.
 */
const ResolvedMillis = 1000

/**
 * reusingResolutions remembers each request's resolution for ResolvedMillis, keyed by the request object: the
 * Mutator decodes each annotation value once (BoundedCache), so every Pod of a task hands over the same
 * SecretRequest, and its resolution (the managers' work and the edit objects) is computed once a second instead
 * of once per Pod. Only resolutions that inject are kept: a failure is worked out (and reported) every time.
 * Weakly keyed: an entry goes when the decode cache lets its request go.
 */
export const reusingResolutions = (resolve: (secret: SecretRequest) => Resolved | Unresolved) => {
  const known = new WeakMap<SecretRequest, { readonly at: number; readonly resolved: Resolved }>()
  return (secret: SecretRequest): Resolved | Unresolved => {
    const now = performance.now()
    const hit = known.get(secret)
    if (hit !== undefined && now - hit.at < ResolvedMillis) return hit.resolved
    const result = resolve(secret)
    if (result._tag === "Resolved") known.set(secret, { at: now, resolved: result })
    return result
  }
}

/** buildManagers turns the config into the ordered managers; an unknown type is a ConfigError naming the key. */
export const buildManagers = (config: WebhookConfigShape): ReadonlyArray<SecretManager> => {
  const managers: Array<SecretManager> = config.webhook.globalSecrets ? [makeGlobalManager(config)] : []
  const key = config.webhook.secretManagerTypes.length > 1 ? "webhook.secretManagerTypes" : "webhook.secretManagerType"
  for (const type of config.webhook.secretManagerTypes) {
    if (type.toLowerCase() === "global") continue
    const definition = managerDefinitions.find((d) => d.type.toLowerCase() === type.toLowerCase())
    if (definition === undefined) {
      const known = ["Global", ...managerDefinitions.map((d) => d.type)].join(", ")
      throw new ConfigError({ key, message: `${key}: expected one of ${known}, got ${JSON.stringify(type)}` })
    }
    if (!managers.some((m) => m.type === definition.type)) managers.push(definition.make(config.webhook))
  }
  if (managers.length === 0) {
    // Only Global was named and it is switched off: every secret would be denied with no manager to blame.
    throw new ConfigError({ key, message: `${key}: names only Global, but webhook.globalSecrets is false: no manager is left` })
  }
  return managers
}

export class SecretLookup extends Context.Service<SecretLookup, SecretLookupShape>()(
  "flyte-pod-webhook/services/SecretLookup"
) {
  /** fromManagers: the lookup over `managers`; `traced` names each resolve a span (SecretLookup.resolve). */
  static readonly fromManagers = (managers: ReadonlyArray<SecretManager>, traced = false): SecretLookupShape => {
    return {
      managers: managers.map((m) => m.type),
      resolve: spans(traced).sync("SecretLookup.resolve", reusingResolutions(resolveWith(managers)))
    }
  }

  /** layer: the managers named by WebhookConfig. */
  static readonly layer = Layer.effect(
    SecretLookup,
    Effect.gen(function*() {
      const config = yield* WebhookConfig
      const managers = yield* Effect.try({ try: () => buildManagers(config), catch: (e) => e as ConfigError })
      return SecretLookup.fromManagers(managers, tracingEnabled(config.webhook))
    })
  )

  /** layerTest: fixed managers (fakes or real ones built by the test). */
  static readonly layerTest = (managers: ReadonlyArray<SecretManager>) =>
    Layer.succeed(SecretLookup, SecretLookup.fromManagers(managers))
}
