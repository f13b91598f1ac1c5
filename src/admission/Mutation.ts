/**
 * Mutation: the decision for one admission request. Reads the Pod's secret annotations, resolves each secret
 * through SecretLookup, bounds the patch, plans it, and maps the outcome to allowed / denied / patched.
 *
 * Flyte 1 admitted a Pod without any secrets when one could not be injected, and with a secret silently missing
 * when the Pod was in its way; ours denies by default with a message naming the annotation, the secret (never a
 * value) and each reason (`webhook.onInjectionError: admit` restores Flyte's behaviour, with a warning). The
 * invariant behind it is docs/flyte-compat.md, "Never a silently missing secret".
 */
import { InjectedSecretsAudit, InjectLabel, ShadowedSecretsAudit } from "../domain/FlyteNames.ts"
import { DefaultMaxPatchBytes, estimatePatch, type PatchEstimate } from "../domain/PatchEstimate.ts"
import { planPatch, type SecretConflict } from "../domain/Patcher.ts"
import { asObject, podFields, type PodFields } from "../domain/Pod.ts"
import { forSecret, type JsonObject, type PodEdit } from "../domain/PodEdit.ts"
import { decodeSecret, requestedSecrets } from "../domain/SecretAnnotation.ts"
import { type RequestedSecret, secretLabel } from "../domain/SecretRequest.ts"
import type { SecretLookupShape } from "../services/SecretLookup.ts"
import type { OnInjectionError } from "../WebhookConfig.ts"
import { type AdmissionRequest, denial, respond } from "./AdmissionReview.ts"
import type { ManagerUse, MutationResult, Outcome } from "./MutationResult.ts"

interface Decided {
  readonly outcome: Outcome
  readonly secrets: ReadonlyArray<string>
  readonly managers: ReadonlyArray<ManagerUse>
  readonly review: JsonObject
  readonly message?: string
  readonly shadowed?: ReadonlyArray<string>
}

/**
 * Engine: what a decision needs; `decode` reads one annotation value (the Mutator memoises it); `maxPatchBytes`
 * bounds the patch of one review (`webhook.maxPatchBytes`, DefaultMaxPatchBytes when not given).
 */
export interface Engine {
  readonly lookup: SecretLookupShape
  readonly onInjectionError: OnInjectionError
  readonly decode?: typeof decodeSecret
  readonly maxPatchBytes?: number
}

/**
 * mutate decides one request, synchronously (the engine is plain CPU work of microseconds; the Mutator wraps it
 * in one Effect). It never fails: every problem is an in-band answer.
 */
export const mutate = (request: AdmissionRequest, engine: Engine): MutationResult => {
  const pod = podFields(request.object)
  const base = { uid: request.uid, namespace: pod.namespace || request.namespace, pod: pod.name }
  const decided = decide(request, pod, engine)
  return { ...base, ...decided }
}

const allow = (request: AdmissionRequest, warnings: ReadonlyArray<string> = []): Decided => ({
  outcome: "unchanged",
  secrets: [],
  managers: [],
  review: respond(request.apiVersion, request.uid, { allowed: true, warnings })
})

const decide = (request: AdmissionRequest, pod: PodFields, engine: Engine): Decided => {
  const { lookup, onInjectionError } = engine
  if (request.operation !== "CREATE" || request.kind !== "Pod" || request.subResource !== "") return allow(request)
  if (request.object === undefined) return allow(request)
  if (pod.labels[InjectLabel] !== "true") return allow(request)
  const decoded = requestedSecrets(pod.annotations, engine.decode)
  if (decoded._tag === "Failure") {
    return refuse(request, [], [], `${decoded.annotation}: ${decoded.reason}`, onInjectionError, [])
  }
  if (decoded.secrets.length === 0) return allow(request, decoded.warnings)
  const names = decoded.secrets.map((r) => secretLabel(r.secret))
  if (!hasContainers(request.object)) {
    // Nothing to put the secrets into: an answer without a patch would admit the Pod without them.
    return refuse(request, names, [], "the Pod has no spec.containers to inject secrets into", onInjectionError, decoded.warnings)
  }
  const edits: Array<PodEdit> = []
  const managers: Array<ManagerUse> = []
  const failures: Array<string> = []
  for (const requested of decoded.secrets) {
    const result = lookup.resolve(requested.secret)
    if (result._tag === "Resolved") {
      edits.push(...forSecret(result.edits, secretLabel(requested.secret)))
      managers.push({ manager: result.manager, ok: true })
    } else {
      const tried = result.attempts.map((a) => `${a.manager}: ${a.reason}`).join("; ")
      failures.push(`cannot inject secret "${secretLabel(requested.secret)}" from annotation ${requested.annotation} (${tried})`)
      const last = result.attempts.at(-1)
      managers.push({ manager: last?.manager ?? "none", ok: false })
    }
  }
  if (failures.length > 0) return refuse(request, names, managers, failures.join("; "), onInjectionError, decoded.warnings)
  const limit = engine.maxPatchBytes ?? DefaultMaxPatchBytes
  const estimate = estimatePatch(request.object, edits)
  if (estimate.bytes > limit) {
    return refuse(request, names, managers, tooLarge(names.length, estimate, limit), onInjectionError, decoded.warnings)
  }
  const { ops: patch, secretConflicts: problems } = planPatch(request.object, edits)
  if (problems.length > 0) return partly(request, decoded.secrets, names, managers, patch, problems, onInjectionError, decoded.warnings)
  return {
    outcome: patch.length === 0 ? "unchanged" : "patched",
    secrets: names,
    managers,
    review: respond(request.apiVersion, request.uid, {
      allowed: true,
      patch,
      warnings: decoded.warnings,
      auditAnnotations: { [InjectedSecretsAudit]: names.join(",") }
    })
  }
}

const tooLarge = (secrets: number, e: PatchEstimate, limit: number): string =>
  `the patch for ${secrets} secrets would be about ${e.bytes} bytes (${e.containers} containers and init containers x ` +
  `${e.envVars} env vars and ${e.mounts} mounts, plus ${e.other} bytes of volumes, init containers and annotations), ` +
  `above webhook.maxPatchBytes (${limit} bytes)`

/**
 * partly: some secrets would not reach the Pod as asked (the planned Pod breaks the invariant for them). Denied
 * naming each; under `admit`, admitted with the rest injected, the audit annotations listing only the secrets the
 * Pod gets (`injected-secrets`) and, apart, those its own env vars shadow (`shadowed-secrets`).
 */
const partly = (
  request: AdmissionRequest,
  requested: ReadonlyArray<RequestedSecret>,
  names: ReadonlyArray<string>,
  managers: ReadonlyArray<ManagerUse>,
  patch: ReturnType<typeof planPatch>["ops"],
  problems: ReadonlyArray<SecretConflict>,
  onInjectionError: OnInjectionError,
  warnings: ReadonlyArray<string>
): Decided => {
  const annotationOf = (label: string) => requested.find((r) => secretLabel(r.secret) === label)?.annotation ?? "?"
  const reason = problems
    .map((p) => `secret ${JSON.stringify(p.secret)} from annotation ${annotationOf(p.secret)} would not reach the Pod: ${p.reasons.join("; ")}`)
    .join("; ")
  const shadowed = problems.filter((p) => p.shadowed).map((p) => p.secret)
  const missing = new Set(problems.map((p) => p.secret))
  const injected = names.filter((name) => !missing.has(name))
  const message = `flyte-pod-webhook: ${reason}`
  const facts = { secrets: names, managers, message, ...(shadowed.length > 0 ? { shadowed } : {}) }
  if (onInjectionError !== "admit") {
    return { ...facts, outcome: "denied", review: respond(request.apiVersion, request.uid, { allowed: false, status: denial(message), warnings }) }
  }
  const audit: Record<string, string> = {}
  if (injected.length > 0) audit[InjectedSecretsAudit] = injected.join(",")
  if (shadowed.length > 0) audit[ShadowedSecretsAudit] = shadowed.join(",")
  return {
    ...facts,
    outcome: "error",
    review: respond(request.apiVersion, request.uid, {
      allowed: true,
      patch,
      warnings: [...warnings, `${message}; admitted without ${missing.size === 1 ? "it" : "them"} (webhook.onInjectionError: admit)`],
      auditAnnotations: audit
    })
  }
}

const hasContainers = (object: JsonObject): boolean => {
  const containers = asObject(object["spec"])["containers"]
  return Array.isArray(containers) && containers.length > 0
}

const refuse = (
  request: AdmissionRequest,
  secrets: ReadonlyArray<string>,
  managers: ReadonlyArray<ManagerUse>,
  reason: string,
  onInjectionError: OnInjectionError,
  warnings: ReadonlyArray<string>
): Decided => {
  const message = `flyte-pod-webhook: ${reason}`
  if (onInjectionError === "admit") {
    return {
      outcome: "error",
      secrets,
      managers,
      message,
      review: respond(request.apiVersion, request.uid, {
        allowed: true,
        warnings: [...warnings, `${message}; admitted without secrets (webhook.onInjectionError: admit)`]
      })
    }
  }
  return {
    outcome: "denied",
    secrets,
    managers,
    message,
    review: respond(request.apiVersion, request.uid, { allowed: false, status: denial(message), warnings })
  }
}
