/**
 * KubeValues: codecs for the Kubernetes objects a config carries (a puller's `resources`, the registration's
 * `namespaceSelector`, annotation maps), checked with the API server's own rules so that what the webhook
 * later writes into a Pod or a MutatingWebhookConfiguration is never refused for a config mistake.
 */
import { Schema } from "effect"
import { choice, leaf, list, mapping, record, show, text, type Value } from "./ConfigValues.ts"
import { isImageReference } from "./ImageReference.ts"
import { isLabelValue, isQualifiedName } from "./KubeNames.ts"
import { isContainerResourceName, quantityValue, standardResourceNames } from "./Quantity.ts"

/** A free-form Kubernetes object as the settings hold it (resources, a label selector). */
export type KubeObject = { readonly [key: string]: unknown }

/** quantity: a non-negative resource quantity (`200m`, `500Mi`, `1`); YAML numbers become their text. */
export const quantity: Value<string> = leaf(
  Schema.String,
  "a Kubernetes quantity such as 200m, 1.5, 500Mi or 2Gi (a number with an optional suffix m, k, M, G, Ki, Mi, Gi, ...)",
  (u) => {
    const s = typeof u === "string" ? u.trim() : typeof u === "number" && Number.isFinite(u) ? String(u) : undefined
    if (s === undefined) return undefined
    const value = quantityValue(s)
    return value !== undefined && value >= 0 ? s : undefined
  }
)

const resourceName = {
  what: "a container resource name (cpu, memory, ephemeral-storage, hugepages-<size> or <domain>/<name>)",
  test: isContainerResourceName,
  known: standardResourceNames
}

const resourceList = record(resourceName, quantity, "a mapping of resource names to quantities")

/** A request above its limit is refused by the API server ("must be less than or equal to ... limit"). */
const requestsWithinLimits = Schema.makeFilter<{
  readonly requests?: Readonly<Record<string, string>> | undefined
  readonly limits?: Readonly<Record<string, string>> | undefined
}>((r) =>
  Object.entries(r.requests ?? {}).flatMap(([name, request]) => {
    const limit = r.limits?.[name]
    if (limit === undefined) return []
    return (quantityValue(request) ?? 0) > (quantityValue(limit) ?? 0)
      ? [{ path: ["requests", name], issue: `${show(request)} is more than its limit ${show(limit)} (limits.${name})` }]
      : []
  })
)

/** resources: corev1.ResourceRequirements of a puller init container (limits, requests, claims). */
export const resources: Value<KubeObject> = mapping(
  Schema.Struct({
    limits: Schema.optionalKey(resourceList),
    requests: Schema.optionalKey(resourceList),
    claims: Schema.optionalKey(list(
      mapping(Schema.Struct({ name: text(), request: Schema.optionalKey(text()) })),
      "a list of {name, request}"
    ))
  }).pipe(Schema.check(requestsWithinLimits))
)

/** image: an image reference the kubelet can pull (distribution/reference grammar). */
export const image: Value<string> = leaf(
  Schema.String,
  "an image reference such as registry.example.com/team/image:1.0 (lower-case repository path, optional :tag and @sha256:digest)",
  (u) => typeof u === "string" && isImageReference(u) ? u : undefined
)

const qualifiedName =
  'an optional DNS-subdomain prefix and "/", then at most 63 letters, digits, "-", "_" or "." starting and ending alphanumeric'

const qualifiedKey = (what: string) => ({ what: `${what} (${qualifiedName})`, test: isQualifiedName })

/** annotations: pod annotations; a YAML number or boolean value is taken as its text (`"false"`). */
export const annotations = record(
  qualifiedKey("an annotation key"),
  leaf(Schema.String, "a string", (u) =>
    typeof u === "string" ? u : typeof u === "number" || typeof u === "boolean" ? String(u) : undefined),
  "a mapping of annotation keys to strings"
)

const labelValue = leaf(
  Schema.String,
  "a label value: at most 63 letters, digits, \"-\", \"_\" or \".\", starting and ending alphanumeric",
  (u) => {
    const s = typeof u === "string" ? u : typeof u === "number" || typeof u === "boolean" ? String(u) : undefined
    return s !== undefined && isLabelValue(s) ? s : undefined
  }
)

/** Values belong to In / NotIn and never to Exists / DoesNotExist (metav1 LabelSelectorRequirement). */
const operatorValues = Schema.makeFilter<{ readonly operator: string; readonly values?: ReadonlyArray<string> | undefined }>(
  (r) => {
    const needsValues = r.operator === "In" || r.operator === "NotIn"
    const count = r.values?.length ?? 0
    if (needsValues && count === 0) return { path: ["values"], issue: `operator ${r.operator} needs at least one value` }
    if (!needsValues && count > 0) return { path: ["values"], issue: `operator ${r.operator} takes no values` }
    return undefined
  }
)

/** labelSelector: a metav1.LabelSelector (matchLabels and matchExpressions). */
export const labelSelector: Value<KubeObject> = mapping(Schema.Struct({
  matchLabels: Schema.optionalKey(record(qualifiedKey("a label key"), labelValue, "a mapping of label keys to values")),
  matchExpressions: Schema.optionalKey(list(
    mapping(Schema.Struct({
      key: text({ expected: `a label key (${qualifiedName})`, test: isQualifiedName }),
      operator: choice(["In", "NotIn", "Exists", "DoesNotExist"]),
      values: Schema.optionalKey(list(labelValue, "a list of label values"))
    }).pipe(Schema.check(operatorValues))),
    "a list of {key, operator, values}"
  ))
}))
