/**
 * Cli: the one command line, `flyte-pod-webhook <command>`. This file is the command table: each command's
 * name, flags (src/cli/Flags.ts), description, exit codes (printed by its `--help`) and the module that runs
 * it. A command's module is imported only when that command runs, so a process pays only for what it uses
 * (`serve` never loads @kubernetes/client-node without credentials; docs/serve.md, Memory). Adding a command
 * is one entry in `commands`.
 *
 * Usage mistakes exit 2 with one line on stderr (src/cli/Usage.ts); commands choose their other exit codes
 * (src/cli/CliExit.ts).
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect, Layer } from "effect"
import { Command } from "effect/cli"
import { CliExit } from "./cli/CliExit.ts"
import { configOnlyFlags, doctorFlags, mutateFlags, serveFlags } from "./cli/Flags.ts"
import { packageVersion } from "./cli/Package.ts"
import * as Usage from "./cli/Usage.ts"

type ExitCodeList = ReadonlyArray<readonly [code: number, meaning: string]>

/** lazy: a handler that imports its module on first use and runs the handler it exports. */
const lazy = <M, A, E, R>(load: () => Promise<M>, pick: (module: M) => (input: A) => Effect.Effect<void, E, R>) =>
(input: A): Effect.Effect<void, E, R> => Effect.flatMap(Effect.promise(load), (module) => pick(module)(input))

/** command: one row of the table. */
const command = <const Name extends string, const Config extends Command.Command.Config, M, E, R>(row: {
  readonly name: Name
  readonly flags: Config
  readonly description: string
  readonly exitCodes: ExitCodeList
  readonly load: () => Promise<M>
  readonly run: (module: M) => (input: Command.Command.Config.Infer<Config>) => Effect.Effect<void, E, R>
}) =>
  Command.make(row.name, row.flags).pipe(
    Command.withDescription(row.description),
    Command.annotate(Usage.ExitCodes, Usage.withUsageCode(row.exitCodes)),
    Command.withHandler(lazy(row.load, row.run))
  )

const commands = [
  command({
    name: "serve",
    flags: serveFlags,
    description: "Serve the admission webhook over HTTPS, with probes and metrics on a plain-HTTP port",
    exitCodes: [
      [0, "stopped by SIGTERM or SIGINT after draining"],
      [1, "cannot start: no usable serving certificate, or a port cannot be bound"],
      [2, "the config (or the Kubernetes credentials) cannot be used"]
    ],
    load: () => import("./cli/Serve.ts"),
    run: (m) => m.serve
  }),
  command({
    name: "mutate",
    flags: mutateFlags,
    description: "Run the injection offline on a Pod or AdmissionReview (JSON or YAML, a file or - for stdin) and print the result",
    exitCodes: [
      [0, "allowed (patched, or nothing to do): the Pod, patch or review on stdout"],
      [1, "denied: the reason on stderr (-o review still prints the denial)"],
      [2, "the input or the config cannot be used (which and why on stderr)"]
    ],
    load: () => import("./cli/Mutate.ts"),
    run: (m) => m.mutate
  }),
  command({
    name: "init-certs",
    flags: configOnlyFlags,
    description:
      "Create or renew the webhook's CA and serving certificate in the Secret webhook.secretName (idempotent, safe to run concurrently)",
    exitCodes: [
      [0, "the Secret was created, updated or already valid"],
      [1, "the API server refused or could not be reached, or the files could not be written"],
      [2, "the config or the Kubernetes credentials cannot be read"]
    ],
    load: () => import("./cli/InitCerts.ts"),
    run: (m) => m.initCerts
  }),
  command({
    name: "unregister",
    flags: configOnlyFlags,
    description: "Delete the webhook's MutatingWebhookConfiguration (for uninstalls); absent is fine",
    exitCodes: [
      [0, "deleted, or already absent"],
      [1, "the API server refused or could not be reached"],
      [2, "the config or the Kubernetes credentials cannot be read"]
    ],
    load: () => import("./cli/Unregister.ts"),
    run: (m) => m.unregister
  }),
  command({
    name: "doctor",
    flags: doctorFlags,
    description:
      "Check a live installation: registration, certificates, endpoints, RBAC, and a dry-run Pod through the API server",
    exitCodes: [
      [0, "every check passed"],
      [1, "a problem was found (each with its fix)"],
      [2, "it cannot check: access is missing (named), or the config or credentials cannot be used"]
    ],
    load: () => import("./cli/Doctor.ts"),
    run: (m) => m.doctor
  })
] as const

const root = Command.make("flyte-pod-webhook").pipe(
  Command.withDescription(
    "Kubernetes mutating admission webhook that injects secrets into Pods (drop-in for Flyte's secrets webhook)"
  ),
  Command.annotate(Usage.ExitCodes, [[Usage.USAGE_EXIT_CODE, "usage error; each command's --help lists its own codes"]])
)

/** cli: the program main.ts runs; a usage mistake (already reported on stderr) exits 2. */
export const cli = root.pipe(
  Command.withSubcommands(commands),
  Command.run({ version: packageVersion }),
  Effect.catchIf(Usage.isUsageError, () => Effect.fail(new CliExit({ code: Usage.USAGE_EXIT_CODE, message: "usage" }))),
  Effect.provide(Layer.mergeAll(NodeServices.layer, Usage.layer))
)
