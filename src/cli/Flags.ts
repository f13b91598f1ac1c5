/**
 * Flags: every command's flags and arguments, and the input each handler receives. This module imports only
 * `effect/cli`, so that src/Cli.ts can parse any command line (and print help) before it loads the one
 * command's module: `serve` then never pays for @kubernetes/client-node, which only init-certs, unregister
 * and serve's cluster wiring use.
 */
import { Argument, type Command, Flag } from "effect/cli"

/** `--config FILE`: Flyte's YAML config (`webhook:` and `secrets:` sections); defaults when absent. */
export const configFlag = Flag.String("config").pipe(
  Flag.withDescription("Flyte-format YAML config file (webhook: and secrets: sections); built-in defaults when absent"),
  Flag.optional
)

/** The embedded default's config file, relative to the package root (Package.ts resolves it from any folder). */
export const EMBEDDED_CONFIG = "deploy/examples/embedded-config.yaml"

const embeddedFlag = Flag.Boolean("embedded").pipe(
  Flag.withDescription(
    `no cluster: use ${EMBEDDED_CONFIG} (unless --config), make a throwaway CA and localhost certificate, print a curl`
  ),
  Flag.withDefault(false)
)

const outputFlag = Flag.Literals("output", ["pod", "patch", "review"]).pipe(
  Flag.withAlias("o"),
  Flag.withDescription("what to print: the mutated Pod (default), the JSONPatch, or the AdmissionReview response"),
  Flag.withDefault("pod")
)

const fileArgument = Argument.String("file").pipe(
  Argument.withDescription("a Pod or an AdmissionReview, JSON or YAML; - for standard input"),
  Argument.withDefault("-")
)

export const serveFlags = { config: configFlag, embedded: embeddedFlag }
export const mutateFlags = { config: configFlag, output: outputFlag, file: fileArgument }
export const configOnlyFlags = { config: configFlag }
/** doctor (issue 13): the namespace of its dry-run test Pod, and text or JSON output. */
export const doctorFlags = {
  config: configFlag,
  namespace: Flag.String("namespace").pipe(
    Flag.withDescription("namespace of the dry-run test Pod (one where Flyte task Pods run)"),
    Flag.withDefault("default")
  ),
  output: Flag.Literals("output", ["text", "json"]).pipe(Flag.withAlias("o"), Flag.withDefault("text"))
}

export type ServeInput = Command.Command.Config.Infer<typeof serveFlags>
export type MutateInput = Command.Command.Config.Infer<typeof mutateFlags>
export type ConfigOnlyInput = Command.Command.Config.Infer<typeof configOnlyFlags>
export type DoctorInput = Command.Command.Config.Infer<typeof doctorFlags>
