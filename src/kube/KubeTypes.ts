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

// ---- What `doctor` reads (core/v1 Service, Namespace, Pod; discovery.k8s.io/v1 EndpointSlice;
// ---- authorization.k8s.io/v1 SubjectAccessReview). Loosely typed like the rest: only the fields read.

export interface ServicePort {
  readonly name?: string
  readonly port: number
  readonly targetPort?: number | string
  readonly protocol?: string
}

/** Service (core/v1). */
export interface Service {
  readonly metadata: ObjectMeta
  readonly spec?: { readonly ports?: ReadonlyArray<ServicePort>; readonly selector?: Readonly<Record<string, string>>; readonly [field: string]: unknown }
  readonly [field: string]: unknown
}

/** One endpoint of an EndpointSlice; `conditions.ready` unset means ready (discovery.k8s.io/v1 docs). */
export interface Endpoint {
  readonly addresses: ReadonlyArray<string>
  readonly conditions?: { readonly ready?: boolean; readonly serving?: boolean; readonly terminating?: boolean }
  readonly targetRef?: { readonly kind?: string; readonly name?: string; readonly namespace?: string }
}

/** EndpointSlice (discovery.k8s.io/v1); the label `kubernetes.io/service-name` ties it to its Service. */
export interface EndpointSlice {
  readonly metadata: ObjectMeta
  readonly addressType?: string
  readonly endpoints?: ReadonlyArray<Endpoint> | null
  readonly ports?: ReadonlyArray<{ readonly name?: string; readonly port?: number; readonly protocol?: string }> | null
  readonly [field: string]: unknown
}

/** Namespace (core/v1): its labels are what a webhook's namespaceSelector sees. */
export interface Namespace {
  readonly metadata: ObjectMeta
  readonly [field: string]: unknown
}

/** Pod (core/v1), as sent and as returned; kept raw. */
export interface Pod {
  readonly apiVersion?: string
  readonly kind?: string
  readonly metadata: Partial<ObjectMeta>
  readonly spec?: { readonly [field: string]: unknown }
  readonly [field: string]: unknown
}

/** AccessQuestion: "may `user` (in `groups`) do `verb` on this resource?"; no user = the caller itself. */
export interface AccessQuestion {
  readonly user?: string
  readonly groups?: ReadonlyArray<string>
  readonly verb: string
  readonly group: string
  readonly resource: string
  readonly name?: string
  readonly namespace?: string
}

/** AccessAnswer: the status of a (Self)SubjectAccessReview. */
export interface AccessAnswer {
  readonly allowed: boolean
  readonly denied?: boolean
  readonly reason?: string
  readonly evaluationError?: string
}

/** PodDryRun: what a `dryRun=All` Pod create came back with: the Pod as it would be stored, or the refusal. */
export type PodDryRun =
  | { readonly _tag: "Admitted"; readonly pod: Pod; readonly warnings: ReadonlyArray<string> }
  | { readonly _tag: "Refused"; readonly status: number; readonly reason: string; readonly message: string }
