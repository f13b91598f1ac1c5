/**
 * SecretManager: the small interface every backend implements.
 *
 * A manager turns one SecretRequest into PodEdits (it injected), a NotFound (not its secret: the next manager
 * is tried), or a ManagerRejected failure (it cannot serve this request, with the reason for the denial
 * message). Managers are pure apart from the Global provider, which reads the webhook's own env and files.
 * Adding a backend is one file exporting a ManagerDefinition plus its entry in `managers/registry.ts`.
 */
import { Data, Effect } from "effect"
import type { PodEdit } from "../../domain/PodEdit.ts"
import type { SecretRequest } from "../../domain/SecretRequest.ts"
import type { WebhookSettings } from "../../WebhookConfig.ts"

/** Injection is a manager's answer for one secret. */
export type Injection =
  | { readonly _tag: "Injected"; readonly edits: ReadonlyArray<PodEdit> }
  | { readonly _tag: "NotFound"; readonly reason: string }

export const injected = (edits: ReadonlyArray<PodEdit>): Injection => ({ _tag: "Injected", edits })
export const notFound = (reason: string): Injection => ({ _tag: "NotFound", reason })

/** ManagerRejected: the manager cannot serve this request (missing group, unsupported mount requirement...). */
export class ManagerRejected extends Data.TaggedError("ManagerRejected")<{
  readonly manager: string
  readonly reason: string
}> {}

/** SecretManager is one configured backend. `type` is its config name (`K8s`, `Vault`, ...). */
export interface SecretManager {
  readonly type: string
  readonly inject: (secret: SecretRequest) => Effect.Effect<Injection, ManagerRejected>
}

/** ManagerDefinition builds a manager from the settings; `type` is matched case-insensitively in config. */
export interface ManagerDefinition {
  readonly type: string
  readonly make: (settings: WebhookSettings) => SecretManager
}

/** reject is the failure constructor managers use. */
export const reject = (manager: string, reason: string) => new ManagerRejected({ manager, reason })

/** fileOnly: for managers that can only mount files (pullers, Vault): ENV_VAR is refused, with one reason everywhere. */
export const fileOnly = (manager: SecretManager): SecretManager => ({
  type: manager.type,
  inject: (secret) =>
    secret.mountRequirement === "ENV_VAR"
      ? Effect.fail(reject(manager.type, "mount requirement ENV_VAR is not supported (use FILE or ANY)"))
      : manager.inject(secret)
})
