/** Flags shared by every command. */
import { Flag } from "effect/cli"

/** `--config FILE`: Flyte's YAML config (`webhook:` and `secrets:` sections); defaults when absent. */
export const configFlag = Flag.String("config").pipe(
  Flag.withDescription("Flyte-format YAML config file (webhook: and secrets: sections); built-in defaults when absent"),
  Flag.optional
)
