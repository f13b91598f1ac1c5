/**
 * SecretManager: the small interface every backend implements.
 *
 * A manager turns one SecretRequest into PodEdits (it injected), a NotFound (not its secret: the next manager
 * is tried), or a Rejected answer (it cannot serve this request, with the reason for the denial message).
 * Managers are synchronous and pure apart from the Global provider, which reads the webhook's own env and
 * files: the webhook makes no network call while the API server waits (the seed's "does not make any external
 * API requests"), and a plain function keeps the engine's cost per request in microseconds (docs/serve.md).
 * Adding a backend is one file exporting a ManagerDefinition plus its entry in `managers/registry.ts`.
 */
import type { PodEdit } from "../../domain/PodEdit.ts"
import type { SecretRequest } from "../../domain/SecretRequest.ts"
import type { WebhookSettings } from "../../WebhookConfig.ts"

/** Injection is a manager's answer for one secret. */
export type Injection =
  | { readonly _tag: "Injected"; readonly edits: ReadonlyArray<PodEdit> }
  | { readonly _tag: "NotFound"; readonly reason: string }
  | { readonly _tag: "Rejected"; readonly reason: string }

export const injected = (edits: ReadonlyArray<PodEdit>): Injection => ({ _tag: "Injected", edits })
export const notFound = (reason: string): Injection => ({ _tag: "NotFound", reason })

/** SecretManager is one configured backend. `type` is its config name (`K8s`, `Vault`, ...). */
export interface SecretManager {
  readonly type: string
  readonly inject: (secret: SecretRequest) => Injection
}

/** ManagerDefinition builds a manager from the settings; `type` is matched case-insensitively in config. */
export interface ManagerDefinition {
  readonly type: string
  readonly make: (settings: WebhookSettings) => SecretManager
}

/**
 * reject: the manager cannot serve this request (missing group, unsupported mount requirement...). `manager`
 * names it for readers of the call site; the lookup records the reason under the manager's type.
 */
export const reject = (_manager: string, reason: string): Injection => ({ _tag: "Rejected", reason })

/** fileOnly: for managers that can only mount files (pullers, Vault): ENV_VAR is refused, with one reason everywhere. */
export const fileOnly = (manager: SecretManager): SecretManager => ({
  type: manager.type,
  inject: (secret) =>
    secret.mountRequirement === "ENV_VAR"
      ? reject(manager.type, "mount requirement ENV_VAR is not supported (use FILE or ANY)")
      : manager.inject(secret)
})
