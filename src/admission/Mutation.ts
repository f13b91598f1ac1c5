/**
 * Mutation: the decision for one admission request, as facts (src/admission/Answers.ts turns them into the
 * answer). Reads the Pod's secret annotations, resolves each secret through SecretLookup, bounds the patch and
 * plans it through the Patcher.
 *
 * A Decision is `unchanged` (not ours, or nothing to add), `patched`, or `failed`: some secret cannot reach the
 * Pod as asked (no manager serves it, a malformed annotation, a Pod with no containers, a patch too large, or the
 * Pod in its way). Flyte 1 admitted such a Pod without any secrets, or with one silently missing; ours refuses it
 * by default, naming the annotation, the secret (never a value) and each reason (`webhook.onInjectionError:
 * admit` restores Flyte's behaviour, with a warning). The invariant behind it is docs/flyte-compat.md, "Never a
 * silently missing secret".
 */
import { Effect, Exit } from "effect"
import { InjectLabel } from "../domain/FlyteNames.ts"
import type { JsonPatchOp } from "../domain/JsonPatch.ts"
import { DefaultMaxPatchBytes, type PatchEstimate } from "../domain/PatchEstimate.ts"
import type { SecretConflict } from "../domain/Patcher.ts"
import { asObject, podAnnotations, podLabel } from "../domain/Pod.ts"
import { forSecret, type JsonObject, type PodEdit } from "../domain/PodEdit.ts"
import { decodeSecret, requestedSecrets } from "../domain/SecretAnnotation.ts"
import { type RequestedSecret, secretLabel } from "../domain/SecretRequest.ts"
import type { PatcherShape } from "../services/Patcher.ts"
import type { SecretLookupShape } from "../services/SecretLookup.ts"
import type { AdmissionRequest } from "./AdmissionReview.ts"
import type { ManagerUse } from "./MutationResult.ts"

/** Decision: what the engine found for one request; never a secret value. */
export interface Decision {
  readonly outcome: "unchanged" | "patched" | "failed"
  /** The ops to apply; for `failed`, what the Pod would still get (used only under `onInjectionError: admit`). */
  readonly patch: ReadonlyArray<JsonPatchOp>
  readonly warnings: ReadonlyArray<string>
  /** Requested secrets, as names. */
  readonly secrets: ReadonlyArray<string>
  /** The secrets the patch delivers (the `injected-secrets` audit annotation). */
  readonly injected: ReadonlyArray<string>
  /** Requested secrets the Pod's own env vars of the same name shadow. */
  readonly shadowed: ReadonlyArray<string>
  readonly managers: ReadonlyArray<ManagerUse>
  /** For `failed`: why, naming annotations, secrets and reasons. */
  readonly reason?: string
  /** For `failed`: how many requested secrets the patch leaves out (all of them, or some). */
  readonly missing?: "all" | number
}

/**
 * Engine: what a decision needs; `decode` reads one annotation value (the Mutator memoises it); `maxPatchBytes`
 * bounds the patch of one review (`webhook.maxPatchBytes`, DefaultMaxPatchBytes when not given).
 */
export interface Engine {
  readonly lookup: SecretLookupShape
  readonly patcher: PatcherShape
  readonly decode?: typeof decodeSecret
  readonly maxPatchBytes?: number
}

/**
 * RunStep: how `decide` gets a service operation's result. Untraced, every operation is an `Exit` already (the
 * services compute it at once, src/services/Spans.ts) and `runNow` just reads it, so a review is plain
 * computation with no Effect run at all: in the server each Effect operation costs several times what it costs
 * alone (docs/serve.md, "Where the time goes"). Traced, the Mutator passes `Effect.runSyncWith` of its own
 * fiber's context, so each operation is a span inside `Mutator.review`.
 */
export type RunStep = <A>(step: Effect.Effect<A>) => A

/** runNow: an operation's value when it is an `Exit` (the untraced services); else it is run synchronously. */
export const runNow: RunStep = <A>(step: Effect.Effect<A>): A =>
  Exit.isExit(step) && Exit.isSuccess(step) ? (step as Exit.Success<A>).value : Effect.runSync(step)

const NOTHING: Omit<Decision, "outcome"> = { patch: [], warnings: [], secrets: [], injected: [], shadowed: [], managers: [] }

const unchanged = (warnings: ReadonlyArray<string> = []): Decision => ({ ...NOTHING, outcome: "unchanged", warnings })

const failed = (
  reason: string,
  facts: Partial<Omit<Decision, "outcome" | "reason">> = {}
): Decision => ({ ...NOTHING, missing: "all", ...facts, outcome: "failed", reason })

/**
 * decide makes the decision for one decoded request, running the services' operations through `run`. It never
 * fails: every problem is a Decision.
 */
export const decide = (request: AdmissionRequest, engine: Engine, run: RunStep = runNow): Decision => {
  if (request.operation !== "CREATE" || request.kind !== "Pod" || request.subResource !== "") return unchanged()
  const object = request.object
  if (object === undefined) return unchanged()
  if (podLabel(object, InjectLabel) !== "true") return unchanged()
  const decoded = requestedSecrets(podAnnotations(object), engine.decode)
  if (decoded._tag === "Failure") return failed(`${decoded.annotation}: ${decoded.reason}`)
  const { warnings } = decoded
  if (decoded.secrets.length === 0) return unchanged(warnings)
  const secrets = decoded.secrets.map((r) => secretLabel(r.secret))
  if (!hasContainers(object)) {
    // Nothing to put the secrets into: an answer without a patch would admit the Pod without them.
    return failed("the Pod has no spec.containers to inject secrets into", { secrets, warnings })
  }
  const edits: Array<PodEdit> = []
  const managers: Array<ManagerUse> = []
  const failures: Array<string> = []
  for (const requested of decoded.secrets) {
    const result = run(engine.lookup.resolve(requested.secret))
    if (result._tag === "Resolved") {
      edits.push(...taggedEdits(result.edits, secretLabel(requested.secret)))
      managers.push({ manager: result.manager, ok: true })
    } else {
      const tried = result.attempts.map((a) => `${a.manager}: ${a.reason}`).join("; ")
      failures.push(`cannot inject secret "${secretLabel(requested.secret)}" from annotation ${requested.annotation} (${tried})`)
      managers.push({ manager: result.attempts.at(-1)?.manager ?? "none", ok: false })
    }
  }
  if (failures.length > 0) return failed(failures.join("; "), { secrets, managers, warnings })
  const limit = engine.maxPatchBytes ?? DefaultMaxPatchBytes
  const estimate = run(engine.patcher.estimate(object, edits))
  if (estimate.bytes > limit) return failed(tooLarge(secrets.length, estimate, limit), { secrets, managers, warnings })
  const { ops: patch, secretConflicts } = run(engine.patcher.plan(object, edits))
  if (secretConflicts.length > 0) return partly(decoded.secrets, secrets, managers, patch, secretConflicts, warnings)
  return { ...NOTHING, outcome: patch.length === 0 ? "unchanged" : "patched", patch, warnings, secrets, injected: secrets, managers }
}

/**
 * taggedEdits: `forSecret` of a resolution's edits, kept with them: a resolution is reused for a second
 * (SecretLookup.ts), and so are its tagged edits (same objects, so the patch estimate's sizes are reused too).
 */
const tagged = new WeakMap<ReadonlyArray<PodEdit>, { readonly secret: string; readonly edits: ReadonlyArray<PodEdit> }>()
const taggedEdits = (edits: ReadonlyArray<PodEdit>, secret: string): ReadonlyArray<PodEdit> => {
  const known = tagged.get(edits)
  if (known !== undefined && known.secret === secret) return known.edits
  const result = forSecret(edits, secret)
  tagged.set(edits, { secret, edits: result })
  return result
}

const tooLarge = (secrets: number, e: PatchEstimate, limit: number): string =>
  `the patch for ${secrets} secrets would be about ${e.bytes} bytes (${e.containers} containers and init containers x ` +
  `${e.envVars} env vars and ${e.mounts} mounts, plus ${e.other} bytes of volumes, init containers and annotations), ` +
  `above webhook.maxPatchBytes (${limit} bytes)`

/**
 * partly: some secrets would not reach the Pod as asked (the planned Pod breaks the invariant for them): a failure
 * naming each, with the patch for the rest and, apart, the secrets the Pod's own env vars shadow.
 */
const partly = (
  requested: ReadonlyArray<RequestedSecret>,
  secrets: ReadonlyArray<string>,
  managers: ReadonlyArray<ManagerUse>,
  patch: ReadonlyArray<JsonPatchOp>,
  problems: ReadonlyArray<SecretConflict>,
  warnings: ReadonlyArray<string>
): Decision => {
  const annotationOf = (label: string) => requested.find((r) => secretLabel(r.secret) === label)?.annotation ?? "?"
  const reason = problems
    .map((p) => `secret ${JSON.stringify(p.secret)} from annotation ${annotationOf(p.secret)} would not reach the Pod: ${p.reasons.join("; ")}`)
    .join("; ")
  const missing = new Set(problems.map((p) => p.secret))
  return failed(reason, {
    patch,
    warnings,
    secrets,
    managers,
    injected: secrets.filter((name) => !missing.has(name)),
    shadowed: problems.filter((p) => p.shadowed).map((p) => p.secret),
    missing: missing.size
  })
}

const hasContainers = (object: JsonObject): boolean => {
  const containers = asObject(object["spec"])["containers"]
  return Array.isArray(containers) && containers.length > 0
}
