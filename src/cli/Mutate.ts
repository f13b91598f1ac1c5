/**
 * `mutate`: run the engine offline on a Pod or an AdmissionReview (JSON or YAML, file or stdin), through the
 * same Mutator the server uses. Exit 0 allowed (changed or not), 1 denied (reason on stderr), 2 when the input
 * or the config cannot be read.
 */
import { Console, Effect, JsonPatch, Layer, Option, type Schema } from "effect"
import * as fs from "node:fs"
import * as YAML from "yaml"
import { Mutator } from "../admission/Mutator.ts"
import { WebhookConfig } from "../WebhookConfig.ts"
import { exitWith } from "./CliExit.ts"
import type { MutateInput } from "./Flags.ts"

type Json = Schema.Json
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

const readInput = (file: string) =>
  Effect.try({
    try: () => YAML.parse(fs.readFileSync(file === "-" ? 0 : file, "utf8")) as unknown,
    catch: (e) => `cannot read input ${file === "-" ? "<stdin>" : file}: ${(e as Error).message}`
  })

/** asReview wraps a bare Pod into a v1 AdmissionReview for a CREATE. */
const asReview = (input: unknown): Record<string, unknown> | undefined => {
  if (!isObject(input)) return undefined
  if (input["kind"] === "AdmissionReview") return input
  // A Pod, or a bare object with a spec and no kind; any other kind (a Deployment has a spec too) is not ours.
  if (input["kind"] !== "Pod" && (input["kind"] !== undefined || !isObject(input["spec"]))) return undefined
  const metadata = isObject(input["metadata"]) ? input["metadata"] : {}
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

/** mutate: the handler of `flyte-pod-webhook mutate` (flags in Flags.ts, listed in src/Cli.ts). */
export const mutate = ({ config, file, output }: MutateInput) =>
  Effect.gen(function*() {
    const settings = yield* WebhookConfig.load(Option.getOrUndefined(config)).pipe(
      Effect.catchTag("ConfigError", (e) => exitWith(2, `config: ${e.message}`))
    )
    const input = yield* readInput(file).pipe(Effect.catch((message) => exitWith(2, message)))
    const review = asReview(input)
    if (review === undefined) {
      const kind = isObject(input) && typeof input["kind"] === "string" ? `kind ${input["kind"]}` : "something else"
      return yield* exitWith(2, `input ${file}: expected a Pod or an AdmissionReview, got ${kind}`)
    }
    const mutator = yield* Mutator.pipe(
      Effect.provide(Mutator.layer.pipe(Layer.provide(Layer.succeed(WebhookConfig, settings)))),
      Effect.catchTag("ConfigError", (e) => exitWith(2, `config: ${e.message}`))
    )
    const result = yield* mutator.review(review).pipe(
      Effect.catchTag("BadReview", (e) => exitWith(2, `input ${file}: not an AdmissionReview we can answer: ${e.message}`))
    )
    const response = result.review["response"] as Record<string, unknown>
    for (const warning of (response["warnings"] as ReadonlyArray<string> | undefined) ?? []) {
      yield* Console.error(`warning: ${warning}`)
    }
    if (output === "review") yield* Console.log(JSON.stringify(result.review, null, 2))
    if (output === "patch") yield* Console.log(JSON.stringify(decodePatch(response), null, 2))
    if (response["allowed"] !== true) return yield* exitWith(1, `denied: ${result.message ?? "no reason given"}`)
    if (output === "pod") {
      const pod = (review["request"] as Record<string, unknown>)["object"] as Json
      const mutated = JsonPatch.apply(decodePatch(response) as JsonPatch.JsonPatch, pod)
      yield* Console.log(JSON.stringify(mutated, null, 2))
    }
  })
