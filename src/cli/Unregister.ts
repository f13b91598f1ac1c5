/**
 * `unregister`: delete the MutatingWebhookConfiguration `webhook.serviceName` (uninstalls: the Helm
 * post-delete hook, or by hand), so no API server keeps calling a webhook that is gone. Exit codes: 0 deleted
 * or already absent; 1 the API server refused (the message names the missing RBAC rule) or could not be
 * reached after retries; 2 the config or the Kubernetes credentials cannot be read.
 */
import { Console, Effect, Layer, Logger, Option, References } from "effect"
import { CommandCallPolicy, KubeClient } from "../kube/KubeClient.ts"
import { unregister as deleteRegistration } from "../services/Registrar.ts"
import { WebhookConfig } from "../WebhookConfig.ts"
import { configMessage, exitWith } from "./CliExit.ts"
import type { ConfigOnlyInput } from "./Flags.ts"

const logLayer = Layer.mergeAll(Logger.layer([Logger.consoleJson]), Layer.succeed(References.LogToStderr, true))

/** unregister: the handler of `flyte-pod-webhook unregister` (listed in src/Cli.ts). */
export const unregister = ({ config }: ConfigOnlyInput) =>
  Effect.gen(function*() {
    const settings = yield* WebhookConfig.load(Option.getOrUndefined(config)).pipe(
      Effect.catchTag("ConfigError", (e) => exitWith(2, configMessage(e)))
    )
    const name = settings.webhook.serviceName
    const result = yield* deleteRegistration.pipe(
      Effect.provide([KubeClient.layerWith(CommandCallPolicy), Layer.succeed(WebhookConfig, settings)]),
      Effect.catchTags({
        KubeConfigError: (e) => exitWith(2, `unregister: ${e.message}`),
        Forbidden: (e) => exitWith(1, `unregister: ${e.message}`),
        Unavailable: (e) => exitWith(1, `unregister: ${e.message}`),
        Conflict: (e) => exitWith(1, `unregister: ${e.message}`),
        AlreadyExists: (e) => exitWith(1, `unregister: ${e.message}`),
        Rejected: (e) => exitWith(1, `unregister: ${e.message}`)
      })
    )
    yield* Console.log(
      result === "deleted"
        ? `unregister: MutatingWebhookConfiguration ${name} deleted`
        : `unregister: MutatingWebhookConfiguration ${name} not found; nothing to do`
    )
  }).pipe(Effect.provide(logLayer))
