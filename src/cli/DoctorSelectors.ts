/**
 * DoctorSelectors: why the API server would not call the webhook for a Pod, from the registration alone:
 * its rules, objectSelector and namespaceSelector, evaluated as the API server evaluates a LabelSelector
 * (k8s.io/apimachinery metav1.LabelSelectorAsSelector: matchLabels AND every matchExpression; operators In,
 * NotIn, Exists, DoesNotExist; an empty selector matches everything).
 */
import type { LabelSelector, MutatingWebhook } from "../kube/KubeTypes.ts"

type Labels = Readonly<Record<string, string>>

interface Expression {
  readonly key: string
  readonly operator: string
  readonly values?: ReadonlyArray<string>
}

const asExpression = (value: unknown): Expression | undefined => {
  if (typeof value !== "object" || value === null) return undefined
  const { key, operator, values } = value as Record<string, unknown>
  if (typeof key !== "string" || typeof operator !== "string") return undefined
  return { key, operator, ...(Array.isArray(values) ? { values: values.map(String) } : {}) }
}

const holds = (expression: Expression, labels: Labels): boolean => {
  const value = labels[expression.key]
  switch (expression.operator) {
    case "In":
      return value !== undefined && (expression.values ?? []).includes(value)
    case "NotIn":
      return value === undefined || !(expression.values ?? []).includes(value)
    case "Exists":
      return value !== undefined
    case "DoesNotExist":
      return value === undefined
    default:
      return false
  }
}

/** selects: whether `selector` (undefined = empty) matches `labels`. */
export const selects = (selector: LabelSelector | undefined, labels: Labels): boolean => {
  if (selector === undefined) return true
  const plain = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value)
  return plain && (selector.matchExpressions ?? []).every((raw) => {
    const expression = asExpression(raw)
    return expression !== undefined && holds(expression, labels)
  })
}

const coversPodCreate = (webhook: MutatingWebhook): boolean =>
  (webhook.rules ?? []).some((rule) =>
    (rule.operations.includes("CREATE") || rule.operations.includes("*")) &&
    (rule.apiGroups.includes("") || rule.apiGroups.includes("*")) &&
    (rule.apiVersions.includes("v1") || rule.apiVersions.includes("*")) &&
    (rule.resources.includes("pods") || rule.resources.includes("*") || rule.resources.includes("*/*"))
  )

/**
 * notCalledBecause: the registration's own reasons not to call the webhook for a Pod with `podLabels` in a
 * namespace with `namespaceLabels` (undefined: not readable); empty when it should be called.
 */
export const notCalledBecause = (
  webhook: MutatingWebhook,
  namespace: string,
  podLabels: Labels,
  namespaceLabels: Labels | undefined
): ReadonlyArray<string> => [
  ...(coversPodCreate(webhook) ? [] : ["its rules do not cover CREATE of pods (v1)"]),
  ...(selects(webhook.objectSelector, podLabels)
    ? []
    : [`the Pod's labels ${JSON.stringify(podLabels)} do not match objectSelector ${JSON.stringify(webhook.objectSelector)}`]),
  ...(namespaceLabels === undefined || selects(webhook.namespaceSelector, namespaceLabels)
    ? []
    : [`namespace ${namespace} (labels ${JSON.stringify(namespaceLabels)}) is excluded by namespaceSelector ${JSON.stringify(webhook.namespaceSelector)}`])
]
