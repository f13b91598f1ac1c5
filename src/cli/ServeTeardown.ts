/**
 * ServeTeardown: how the process exits. A signal-driven shutdown of `serve` that completed exits 0, not
 * `NodeRuntime.runMain`'s 130 for an interrupted program; anything else gets runMain's defaults. A module of
 * its own because src/main.ts needs it before any command runs, while src/cli/Serve.ts loads only for `serve`.
 */
import { Cause, Exit, Runtime } from "effect"

let shutdownCompleted = false

/** markShutdownCompleted: serve's drain after SIGTERM / SIGINT finished. */
export const markShutdownCompleted = (): void => {
  shutdownCompleted = true
}

/** serveTeardown: exit 0 after a signal-driven shutdown that completed; otherwise runMain's defaults. */
export const serveTeardown: Runtime.Teardown = (exit, onExit) =>
  shutdownCompleted && Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)
    ? onExit(0)
    : Runtime.defaultTeardown(exit, onExit)
