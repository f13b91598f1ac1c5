/**
 * Cli: the one command line, `flyte-pod-webhook <command>`. This file lists the commands: name, flags
 * (src/cli/Flags.ts) and description. Each command's implementation lives in `cli/` and is imported only when
 * that command runs, so a process pays only for the modules its command uses (`serve --embedded` idles at
 * about 30 MiB less without @kubernetes/client-node and the cluster services; docs/serve.md, Memory).
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { configOnlyFlags, doctorFlags, mutateFlags, serveFlags } from "./cli/Flags.ts"

/** lazy: a handler that imports its module on first use and runs the handler it exports. */
const lazy = <M, A, E, R>(load: () => Promise<M>, pick: (module: M) => (input: A) => Effect.Effect<void, E, R>) =>
(input: A): Effect.Effect<void, E, R> => Effect.flatMap(Effect.promise(load), (module) => pick(module)(input))

const serve = Command.make("serve", serveFlags).pipe(
  Command.withDescription("Serve the admission webhook over HTTPS, with probes and metrics on a plain-HTTP port"),
  Command.withHandler(lazy(() => import("./cli/Serve.ts"), (m) => m.serve))
)

const mutate = Command.make("mutate", mutateFlags).pipe(
  Command.withDescription("Run the injection offline on a Pod or AdmissionReview and print the result"),
  Command.withHandler(lazy(() => import("./cli/Mutate.ts"), (m) => m.mutate))
)

const initCerts = Command.make("init-certs", configOnlyFlags).pipe(
  Command.withDescription(
    "Create or renew the webhook's CA and serving certificate in the Secret webhook.secretName (idempotent, safe to run concurrently)"
  ),
  Command.withHandler(lazy(() => import("./cli/InitCerts.ts"), (m) => m.initCerts))
)

const unregister = Command.make("unregister", configOnlyFlags).pipe(
  Command.withDescription("Delete the webhook's MutatingWebhookConfiguration (for uninstalls); absent is fine"),
  Command.withHandler(lazy(() => import("./cli/Unregister.ts"), (m) => m.unregister))
)

const doctor = Command.make("doctor", doctorFlags).pipe(
  Command.withDescription("Check a live installation: registration, certificates, endpoints, RBAC, a dry-run Pod (exit 0 ok, 1 problem, 2 cannot check)"),
  Command.withHandler(lazy(() => import("./cli/Doctor.ts"), (m) => m.doctor))
)

const root = Command.make("flyte-pod-webhook").pipe(
  Command.withDescription(
    "Kubernetes mutating admission webhook that injects secrets into Pods (drop-in for Flyte's secrets webhook)"
  )
)

export const cli = root.pipe(
  Command.withSubcommands([serve, mutate, initCerts, unregister, doctor]),
  Command.run({ version: "0.1.0" }),
  Effect.provide(NodeServices.layer)
)
