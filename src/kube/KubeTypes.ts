/**
 * KubeTypes: the plain JSON shapes of the few API objects this webhook reads and writes (core/v1 Secret and
 * admissionregistration.k8s.io/v1 MutatingWebhookConfiguration), as they travel on the wire.
 *
 * Only the fields we use are typed; the rest of an object read from the API server is kept as-is (index
 * signatures) so a read-modify-replace never drops fields it does not know (vault-k8s habit: never
 * re-serialise a typed object that silently loses fields). Field names and meanings follow the Kubernetes API
 * reference for admissionregistration/v1 and core/v1.
 */

export interface ObjectMeta {
  readonly name: string
  readonly namespace?: string
  readonly resourceVersion?: string
  readonly uid?: string
  readonly labels?: Readonly<Record<string, string>>
  readonly annotations?: Readonly<Record<string, string>>
  readonly [field: string]: unknown
}

/** Secret (core/v1). `data` values are base64, as on the wire. */
export interface Secret {
  readonly apiVersion?: string
  readonly kind?: string
  readonly metadata: ObjectMeta
  readonly type?: string
  readonly data?: Readonly<Record<string, string>>
  readonly [field: string]: unknown
}

export interface ServiceReference {
  readonly name: string
  readonly namespace: string
  readonly path?: string
  readonly port?: number
}

export interface WebhookClientConfig {
  readonly service?: ServiceReference
  readonly url?: string
  /** base64 of the PEM bundle the API server trusts for this webhook. */
  readonly caBundle?: string
}

export interface RuleWithOperations {
  readonly operations: ReadonlyArray<string>
  readonly apiGroups: ReadonlyArray<string>
  readonly apiVersions: ReadonlyArray<string>
  readonly resources: ReadonlyArray<string>
  readonly scope?: string
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>
  readonly matchExpressions?: ReadonlyArray<unknown>
  readonly [field: string]: unknown
}

export interface MutatingWebhook {
  readonly name: string
  readonly clientConfig: WebhookClientConfig
  readonly rules?: ReadonlyArray<RuleWithOperations>
  readonly objectSelector?: LabelSelector
  readonly namespaceSelector?: LabelSelector
  readonly admissionReviewVersions: ReadonlyArray<string>
  readonly sideEffects: string
  readonly failurePolicy?: string
  readonly matchPolicy?: string
  readonly timeoutSeconds?: number
  readonly reinvocationPolicy?: string
  readonly [field: string]: unknown
}

/** MutatingWebhookConfiguration (admissionregistration.k8s.io/v1), cluster-scoped. */
export interface MutatingWebhookConfiguration {
  readonly apiVersion?: string
  readonly kind?: string
  readonly metadata: ObjectMeta
  readonly webhooks?: ReadonlyArray<MutatingWebhook>
  readonly [field: string]: unknown
}

/** One RFC 6902 operation, the subset we send (`test` guards a patch with the resourceVersion read). */
export type JsonPatchOp =
  | { readonly op: "test"; readonly path: string; readonly value: unknown }
  | { readonly op: "replace"; readonly path: string; readonly value: unknown }
  | { readonly op: "add"; readonly path: string; readonly value: unknown }

export const SecretApiVersion = "v1"
export const WebhookApiVersion = "admissionregistration.k8s.io/v1"
