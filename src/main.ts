/** main: run the CLI. Nothing else lives here. */
import { NodeRuntime } from "@effect/platform-node"
import { cli } from "./Cli.ts"

NodeRuntime.runMain(cli)
