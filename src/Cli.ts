/**
 * Cli: the one command line, `flyte-pod-webhook <command>`. Each command lives in `cli/` and builds its own
 * layers; this file only lists them.
 */
import { NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { initCerts } from "./cli/InitCerts.ts"
import { mutate } from "./cli/Mutate.ts"
import { serve } from "./cli/Serve.ts"
import { unregister } from "./cli/Unregister.ts"

const root = Command.make("flyte-pod-webhook").pipe(
  Command.withDescription(
    "Kubernetes mutating admission webhook that injects secrets into Pods (drop-in for Flyte's secrets webhook)"
  )
)

export const cli = root.pipe(
  Command.withSubcommands([serve, mutate, initCerts, unregister]),
  Command.run({ version: "0.1.0" }),
  Effect.provide(NodeServices.layer)
)
