/**
 * CliExit: a command's deliberate exit with a code, its message already printed to stderr.
 *
 * `NodeRuntime.runMain` reads `Runtime.errorExitCode` from the failure and skips its own error report when
 * `Runtime.errorReported` is false, so commands choose their exit codes (mutate: 1 denied, 2 unreadable input).
 */
import { Console, Data, Effect, Runtime } from "effect"

export class CliExit extends Data.TaggedError("CliExit")<{ readonly code: number; readonly message: string }> {
  override readonly [Runtime.errorExitCode]: number = this.code
  override readonly [Runtime.errorReported]: boolean = false
}

/** exitWith prints the message on stderr and fails with CliExit. */
export const exitWith = (code: number, message: string) =>
  Console.error(message).pipe(Effect.andThen(Effect.fail(new CliExit({ code, message }))))

/** configMessage: a ConfigError for stderr, every mistake on its own `config: ` line. */
export const configMessage = (error: { readonly message: string }): string =>
  error.message.split("\n").map((line) => `config: ${line}`).join("\n")
