/**
 * `mutate`: run the engine offline on a Pod or an AdmissionReview (JSON or YAML, file or stdin), through the
 * same Mutator the server uses. Exit 0 allowed (changed or not), 1 denied (reason on stderr), 2 when the input
 * or the config cannot be used. stdout carries only the result: nothing at all on a denial unless `-o review`.
 * Messages about the input name the format that failed and never quote the input (config/TextDocument.ts).
 */
import { Console, Effect, JsonPatch, Layer, Option, Result, type Schema } from "effect"
import { Mutator } from "../admission/Mutator.ts"
import { isMapping } from "../config/ConfigValues.ts"
import { parseBytes } from "../config/TextDocument.ts"
import { WebhookConfig } from "../WebhookConfig.ts"
import { configMessage, exitWith } from "./CliExit.ts"
import type { MutateInput } from "./Flags.ts"
import { inputName, readInput } from "./InputFile.ts"

type Json = Schema.Json

/** describeValue: what a non-object input is, without quoting it. */
const describeValue = (input: unknown): string =>
  Array.isArray(input)
    ? "a list"
    : isMapping(input)
    ? typeof input["kind"] === "string" && /^[A-Za-z0-9]{1,63}$/.test(input["kind"])
      ? `kind ${input["kind"]}`
      : "an object without a Pod's kind"
    : `a ${typeof input}`

/** asReview wraps a bare Pod into a v1 AdmissionReview for a CREATE. */
const asReview = (input: unknown): Record<string, unknown> | undefined => {
  if (!isMapping(input)) return undefined
  if (input["kind"] === "AdmissionReview") return { ...input }
  // A Pod, or a bare object with a spec and no kind; any other kind (a Deployment has a spec too) is not ours.
  if (input["kind"] !== "Pod" && (input["kind"] !== undefined || !isMapping(input["spec"]))) return undefined
  const metadata = isMapping(input["metadata"]) ? input["metadata"] : {}
  const namespace = typeof metadata["namespace"] === "string" ? metadata["namespace"] : "default"
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "00000000-0000-0000-0000-000000000000",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      namespace,
      operation: "CREATE",
      userInfo: { username: "flyte-pod-webhook-mutate" },
      object: input,
      oldObject: null,
      dryRun: true
    }
  }
}

const decodePatch = (response: Record<string, unknown>): ReadonlyArray<unknown> =>
  typeof response["patch"] === "string" ? JSON.parse(Buffer.from(response["patch"], "base64").toString("utf8")) : []

/** readReview: the input as an AdmissionReview, or exit 2 saying what is wrong with it. */
const readReview = (file: string) =>
  Effect.gen(function*() {
    const name = inputName(file)
    const bytes = yield* readInput(file).pipe(Effect.catchTag("InputError", (e) => exitWith(2, `input ${name} ${e.reason}`)))
    const parsed = parseBytes(bytes, file === "-" ? undefined : file)
    if (Result.isFailure(parsed)) return yield* exitWith(2, `input ${name} ${parsed.failure.reason}`)
    const input = parsed.success.value
    if (input === undefined) {
      return yield* exitWith(2, `input ${name} is empty: expected a Pod or an AdmissionReview, as JSON or YAML`)
    }
    const review = asReview(input)
    if (review === undefined) {
      return yield* exitWith(2, `input ${name} (${parsed.success.format}): expected a Pod or an AdmissionReview, got ${describeValue(input)}`)
    }
    return review
  })

/** mutate: the handler of `flyte-pod-webhook mutate` (flags in Flags.ts, listed in src/Cli.ts). */
export const mutate = ({ config, file, output }: MutateInput) =>
  Effect.gen(function*() {
    const settings = yield* WebhookConfig.load(Option.getOrUndefined(config)).pipe(
      Effect.catchTag("ConfigError", (e) => exitWith(2, configMessage(e)))
    )
    const mutator = yield* Mutator.pipe(
      Effect.provide(Mutator.layer.pipe(Layer.provide(Layer.succeed(WebhookConfig, settings)))),
      Effect.catchTag("ConfigError", (e) => exitWith(2, configMessage(e)))
    )
    const review = yield* readReview(file)
    const result = yield* mutator.review(review).pipe(
      Effect.catchTag("BadReview", (e) => exitWith(2, `input ${inputName(file)}: not an AdmissionReview we can answer: ${e.message}`))
    )
    const response = result.review["response"] as Record<string, unknown>
    for (const warning of (response["warnings"] as ReadonlyArray<string> | undefined) ?? []) {
      yield* Console.error(`warning: ${warning}`)
    }
    const allowed = response["allowed"] === true
    if (output === "review") yield* Console.log(JSON.stringify(result.review, null, 2))
    if (!allowed) return yield* exitWith(1, `denied: ${result.message ?? "no reason given"}`)
    if (output === "patch") yield* Console.log(JSON.stringify(decodePatch(response), null, 2))
    if (output === "pod") {
      const pod = (review["request"] as Record<string, unknown>)["object"] as Json
      const mutated = JsonPatch.apply(decodePatch(response) as JsonPatch.JsonPatch, pod)
      yield* Console.log(JSON.stringify(mutated, null, 2))
    }
  })
