/**
 * Usage: how the command line talks about itself. `--help` goes to stdout with each command's exit codes; a
 * usage mistake (unknown flag or command, bad flag value, extra argument) is one line on stderr plus a hint
 * naming the help to read, nothing on stdout, and exit code 2, as kubectl and git do. effect/cli's default
 * prints the whole help on stdout and exits 1, which mutate's scripts would take for "denied".
 *
 * Commands declare their exit codes with `Command.annotate(ExitCodes, [...])`; the help lists them.
 */
import { Console, Context, Effect, Layer } from "effect"
import { CliConfig, CliError, CliOutput, GlobalFlag, type HelpDoc } from "effect/cli"

/** ExitCodes: a command's exit codes and what each means, for its `--help`. */
export const ExitCodes = Context.Reference<ReadonlyArray<readonly [code: number, meaning: string]>>(
  "flyte-pod-webhook/cli/ExitCodes",
  { defaultValue: () => [] }
)

/** The exit code of every usage mistake. */
export const USAGE_EXIT_CODE = 2

const usageMeaning = "a usage mistake (unknown flag or command, bad flag value, extra argument)"

/** withUsageCode: a command's exit codes with the usage mistake added (to its own code 2 when it has one). */
export const withUsageCode = (
  codes: ReadonlyArray<readonly [code: number, meaning: string]>
): ReadonlyArray<readonly [code: number, meaning: string]> =>
  codes.some(([code]) => code === USAGE_EXIT_CODE)
    ? codes.map(([code, meaning]) => [code, code === USAGE_EXIT_CODE ? `${meaning}, or ${usageMeaning}` : meaning] as const)
    : [...codes, [USAGE_EXIT_CODE, usageMeaning] as const]

const exitCodesSection = (doc: HelpDoc.HelpDoc): string => {
  const codes = Context.get(doc.annotations, ExitCodes)
  if (codes.length === 0) return ""
  return ["", "", "EXIT CODES", ...codes.map(([code, meaning]) => `  ${String(code).padEnd(4)}${meaning}`)].join("\n")
}

const flagName = (option: string) => option.startsWith("-") ? option : `--${option}`

/** expectation: effect/cli's `"pod" | "patch" | "review"` as `one of pod, patch, review`. */
const expectation = (expected: string): string => {
  const text = expected.replace(/^Expected:? ?/, "")
  const choices = /^"[^"]*"(?: \| "[^"]*")+$/.test(text) ? text.split(" | ").map((c) => c.slice(1, -1)) : undefined
  return choices === undefined ? `expected ${text}` : `expected one of ${choices.join(", ")}`
}

const suggestion = (suggestions: ReadonlyArray<string>) =>
  suggestions[0] === undefined ? "" : ` (did you mean ${suggestions[0]}?)`

/** oneLine: a parse error as one line, without effect/cli's multi-line "Did you mean this?" block. */
export const oneLine = (error: CliError.NonShowHelpErrors, commands: ReadonlyArray<string> = []): string => {
  switch (error._tag) {
    case "UnrecognizedOption":
      return `unknown flag ${error.option}${suggestion(error.suggestions)}`
    case "UnknownSubcommand":
      return `unknown command "${error.subcommand}"` +
        (error.suggestions.length > 0 || commands.length === 0
          ? suggestion(error.suggestions)
          : ` (commands: ${commands.join(", ")})`)
    case "InvalidValue":
      return `invalid value ${JSON.stringify(error.value)} for ${
        error.kind === "argument" ? `<${error.option}>` : flagName(error.option)
      }: ${expectation(error.expected)}`
    case "UnexpectedArgument":
      return `unexpected argument${error.arguments.length === 1 ? "" : "s"} ${error.arguments.map((a) => JSON.stringify(a)).join(", ")}`
    case "MissingOption":
      return `missing flag ${flagName(error.option)}`
    case "MissingArgument":
      return `missing argument <${error.argument}>`
    default:
      return error.message.split("\n")[0] ?? error._tag
  }
}

/** usagePresenter: help on stdout (with exit codes), usage mistakes as one line and a hint on stderr. */
const usagePresenter: CliOutput.Presenter = {
  present: (event) =>
    Effect.gen(function*() {
      const formatter = CliOutput.defaultFormatter()
      switch (event._tag) {
        case "Help": {
          const help = formatter.formatHelpDoc(event.helpDoc) + exitCodesSection(event.helpDoc)
          // Asked for: stdout. Implicit (a command without its subcommand): a usage mistake, so stderr.
          return yield* event.reason === "Requested" ? Console.log(help) : Console.error(help)
        }
        case "InvalidInvocation": {
          const command = event.commandPath.join(" ")
          const first = event.errors[0]
          const commands = (event.helpDoc.subcommands ?? []).flatMap((group) => group.commands.map((c) => c.name))
          const line = first === undefined ? "invalid command line" : oneLine(first, commands)
          return yield* Console.error(`${command}: ${line}\nSee '${command} --help' for usage.`)
        }
        case "Version":
          return yield* Console.log(`${event.name} ${event.version}`)
      }
    })
}

/**
 * layer: our presenter, and only `--help` and `--version` as global flags. effect/cli's `--log-level` is left
 * out (`webhook.logLevel` sets the level, and serve's logger would override the flag anyway), as are
 * `--wizard` (interactive prompts for a server's flags) and `--completions`.
 */
export const layer = Layer.mergeAll(
  CliOutput.layerPresenter(usagePresenter),
  CliConfig.layer({ builtIns: [GlobalFlag.Help, GlobalFlag.Version] })
)

/** isUsageError: a parse failure effect/cli already reported through the presenter. */
export const isUsageError = (error: unknown): error is CliError.ShowHelp =>
  CliError.isCliError(error) && error._tag === "ShowHelp"
