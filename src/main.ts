/** main: run the CLI. Nothing else lives here. */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { serveTeardown } from "./cli/ServeTeardown.ts"
import { cli } from "./Cli.ts"

// serveTeardown: a completed signal-driven shutdown of `serve` exits 0 instead of 130; otherwise the default.
NodeRuntime.runMain(cli, { teardown: serveTeardown })
