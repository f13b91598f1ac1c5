/**
 * ConfigError: a config file or value that cannot be used. `key` is the dotted key of the first mistake
 * (`webhook.listenPort`; `<file>` for the file itself, `<root>` for its top level); `message` has one line per
 * mistake, each starting with its key, so a user fixes them all in one go.
 */
import { Data } from "effect"

export class ConfigError extends Data.TaggedError("ConfigError")<{
  readonly key: string
  readonly message: string
}> {}
