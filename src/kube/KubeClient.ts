/**
 * KubeClient: the only code that talks to the Kubernetes API server, and only about what this webhook owns:
 * its certificate Secret and its MutatingWebhookConfiguration; plus, for `doctor`, read-only looks at the
 * rest of an installation (Service, EndpointSlices, Namespace, access reviews, a dry-run Pod create, the
 * service proxy, the API server's /metrics), none of which `serve` uses.
 *
 * Every call gets a deadline, is retried with jittered exponential backoff on transient failures only (5xx,
 * 429, no answer; never on 4xx, which would just fail again), and fails with a typed error (KubeErrors).
 * Writes to the webhook configuration are server-side applies under the field manager `flyte-pod-webhook`, so
 * several replicas applying the same content own the same fields and the API server records no change.
 * `layer` uses the live transport; `layerTest` an in-memory API server whose control (`FakeKube`) lets tests
 * seed objects, inject failures and read the recorded calls.
 */
import { Context, Data, Duration, Effect, Layer, Schedule } from "effect"
import { type ApiFailure, classify, isTransient, type KubeError, type Target } from "./KubeErrors.ts"
import { type FakeControl, makeFakeTransport } from "./FakeTransport.ts"
import { type KubeTransport, toFailure } from "./KubeTransport.ts"
import type {
  AccessAnswer,
  AccessQuestion,
  EndpointSlice,
  JsonPatchOp,
  MutatingWebhookConfiguration,
  Namespace,
  Pod,
  PodDryRun,
  Secret,
  Service
} from "./KubeTypes.ts"
import { loadDefaultConfig, makeLiveTransport } from "./LiveTransport.ts"

/** FieldManager: the server-side apply manager name for everything this webhook writes. */
export const FieldManager = "flyte-pod-webhook"

const WebhookResource = "mutatingwebhookconfigurations.admissionregistration.k8s.io"

export interface KubeClientShape {
  readonly getSecret: (namespace: string, name: string) => Effect.Effect<Secret, KubeError>
  /** createSecret creates `secret` in `namespace`; AlreadyExists when a Secret of that name is there. */
  readonly createSecret: (namespace: string, secret: Secret) => Effect.Effect<Secret, KubeError>
  /** replaceSecret writes `secret` if its metadata.resourceVersion is still current, else Conflict. */
  readonly replaceSecret: (namespace: string, secret: Secret) => Effect.Effect<Secret, KubeError>
  readonly getWebhookConfiguration: (name: string) => Effect.Effect<MutatingWebhookConfiguration, KubeError>
  /** applyWebhookConfiguration: server-side apply, forced (we own this object by name; see Registrar). */
  readonly applyWebhookConfiguration: (
    config: MutatingWebhookConfiguration
  ) => Effect.Effect<MutatingWebhookConfiguration, KubeError>
  readonly patchWebhookConfiguration: (
    name: string,
    ops: ReadonlyArray<JsonPatchOp>
  ) => Effect.Effect<MutatingWebhookConfiguration, KubeError>
  readonly deleteWebhookConfiguration: (name: string) => Effect.Effect<void, KubeError>
  // ---- doctor: read-only checks of a live installation ----
  readonly getService: (namespace: string, name: string) => Effect.Effect<Service, KubeError>
  /** listEndpointSlices: the Service's slices (label `kubernetes.io/service-name`). */
  readonly listEndpointSlices: (namespace: string, serviceName: string) => Effect.Effect<ReadonlyArray<EndpointSlice>, KubeError>
  readonly getNamespace: (name: string) => Effect.Effect<Namespace, KubeError>
  /** reviewAccess: SubjectAccessReview for `question.user`, or SelfSubjectAccessReview without one. */
  readonly reviewAccess: (question: AccessQuestion) => Effect.Effect<AccessAnswer, KubeError>
  /**
   * createPodDryRun: a `dryRun=All` create, one attempt (a retry would hide the round trip being measured),
   * with its own deadline; a refusal by the API server (admission, validation, RBAC) is a `Refused` answer.
   */
  readonly createPodDryRun: (namespace: string, pod: Pod, timeout: Duration.Input) => Effect.Effect<PodDryRun, KubeError>
  /** proxyServicePost: POST JSON through the API server's service proxy, one attempt. */
  readonly proxyServicePost: (
    namespace: string,
    service: string,
    port: string,
    path: string,
    body: unknown
  ) => Effect.Effect<unknown, KubeError>
  /** getApiServerMetrics: the API server's /metrics text. */
  readonly getApiServerMetrics: Effect.Effect<string, KubeError>
}

/**
 * CallPolicy: deadline per attempt, retries after the first attempt, the first backoff delay, and optionally a
 * budget for the whole call (attempts and backoff together).
 */
export interface CallPolicy {
  readonly timeout: Duration.Input
  readonly retries: number
  readonly backoff: Duration.Input
  readonly budget?: Duration.Input | undefined
}

/** DefaultCallPolicy: 10 s per attempt (client-go's default), 4 retries from 500 ms doubling (~7.5 s in all). */
export const DefaultCallPolicy: CallPolicy = { timeout: "10 seconds", retries: 4, backoff: "500 millis" }

/**
 * CommandCallPolicy: for one-shot commands (init-certs, unregister): the same retries, but an answer (or the
 * reason there is none) within 20 s even when the API server accepts connections and never answers.
 */
export const CommandCallPolicy: CallPolicy = { ...DefaultCallPolicy, budget: "20 seconds" }

/** KubeConfigError: no usable kubeconfig or in-cluster credentials. */
export class KubeConfigError extends Data.TaggedError("KubeConfigError")<{ readonly message: string }> {}

/** FakeKube: the control of KubeClient.layerTest's in-memory API server. */
export class FakeKube extends Context.Service<FakeKube, FakeControl>()("flyte-pod-webhook/kube/FakeKube") {}

/**
 * makeKubeClient wraps one transport with deadlines, retries and typed errors. `server` (the API server's URL)
 * is named in the message of a call that got no answer, with the cause.
 */
export const makeKubeClient = (
  transport: KubeTransport,
  policy: CallPolicy = DefaultCallPolicy,
  server?: string
): KubeClientShape => {
  const apiServer = server === undefined ? "API server" : `API server ${server}`
  const noAnswer = (within: Duration.Input): ApiFailure => ({
    status: undefined,
    reason: "Timeout",
    message: `${apiServer} gave no answer within ${Duration.format(Duration.fromInputUnsafe(within))}`
  })
  const withinBudget = <A>(call: Effect.Effect<A, ApiFailure>): Effect.Effect<A, ApiFailure> =>
    policy.budget === undefined
      ? call
      : call.pipe(Effect.timeoutOrElse({ duration: policy.budget, orElse: () => Effect.fail(noAnswer(policy.budget ?? 0)) }))
  const call = <A>(
    target: Target,
    attempt: (signal: AbortSignal) => Promise<A>,
    { retries, timeout }: { readonly retries: number; readonly timeout: Duration.Input } = policy
  ): Effect.Effect<A, KubeError> =>
    Effect.tryPromise({ try: (signal) => attempt(signal), catch: (cause) => toFailure(cause, server) }).pipe(
      Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.fail(noAnswer(timeout)) }),
      Effect.tapError((failure) =>
        isTransient(failure)
          ? Effect.logDebug(`kube: ${target.verb} ${target.resource} ${target.name}: ${failure.message}; retrying`)
          : Effect.void
      ),
      Effect.retry({
        schedule: Schedule.exponential(policy.backoff, 2).pipe(Schedule.jittered),
        times: retries,
        while: isTransient
      }),
      withinBudget,
      Effect.mapError((failure) => classify(target, failure)),
      Effect.withSpan(`KubeClient.${target.verb}`, {
        attributes: { resource: target.resource, name: target.name, namespace: target.namespace ?? "" }
      })
    )
  const secret = (verb: Target["verb"], namespace: string, name: string): Target => ({
    verb,
    resource: "secrets",
    name,
    namespace
  })
  const webhook = (verb: Target["verb"], name: string): Target => ({ verb, resource: WebhookResource, name })
  return {
    getSecret: (namespace, name) =>
      call(secret("get", namespace, name), (signal) => transport.getSecret(namespace, name, signal)),
    createSecret: (namespace, body) =>
      call(secret("create", namespace, body.metadata.name), (signal) => transport.createSecret(namespace, body, signal)),
    replaceSecret: (namespace, body) =>
      call(secret("update", namespace, body.metadata.name), (signal) => transport.replaceSecret(namespace, body, signal)),
    getWebhookConfiguration: (name) =>
      call(webhook("get", name), (signal) => transport.getWebhookConfiguration(name, signal)),
    applyWebhookConfiguration: (config) =>
      call(webhook("patch", config.metadata.name), (signal) =>
        transport.applyWebhookConfiguration(config, FieldManager, true, signal)),
    patchWebhookConfiguration: (name, ops) =>
      call(webhook("patch", name), (signal) => transport.patchWebhookConfiguration(name, ops, FieldManager, signal)),
    deleteWebhookConfiguration: (name) =>
      call(webhook("delete", name), (signal) => transport.deleteWebhookConfiguration(name, signal)),
    getService: (namespace, name) =>
      call({ verb: "get", resource: "services", name, namespace }, (signal) => transport.getService(namespace, name, signal)),
    listEndpointSlices: (namespace, serviceName) =>
      call(
        { verb: "list", resource: "endpointslices.discovery.k8s.io", name: serviceName, namespace },
        (signal) => transport.listEndpointSlices(namespace, serviceName, signal)
      ),
    getNamespace: (name) => call({ verb: "get", resource: "namespaces", name }, (signal) => transport.getNamespace(name, signal)),
    reviewAccess: (question) =>
      call(
        {
          verb: "create",
          resource: question.user === undefined
            ? "selfsubjectaccessreviews.authorization.k8s.io"
            : "subjectaccessreviews.authorization.k8s.io",
          name: ""
        },
        (signal) => transport.reviewAccess(question, signal)
      ),
    createPodDryRun: (namespace, pod, timeout) =>
      call(
        { verb: "create", resource: "pods", name: String(pod.metadata.generateName ?? pod.metadata.name ?? ""), namespace },
        (signal) => transport.createPodDryRun(namespace, pod, signal),
        { retries: 0, timeout }
      ),
    proxyServicePost: (namespace, service, port, path, body) =>
      call(
        { verb: "create", resource: "services/proxy", name: service, namespace },
        (signal) => transport.proxyServicePost(namespace, service, port, path, body, signal),
        { retries: 0, timeout: policy.timeout }
      ),
    getApiServerMetrics: call({ verb: "get", resource: "nonResourceURLs", name: "/metrics" }, (signal) => transport.getApiServerMetrics(signal))
  }
}

export class KubeClient extends Context.Service<KubeClient, KubeClientShape>()("flyte-pod-webhook/kube/KubeClient") {
  /** available: whether Kubernetes credentials can be found (serve runs standalone without them). */
  static readonly available: Effect.Effect<boolean> = Effect.sync(() => {
    try {
      loadDefaultConfig()
      return true
    } catch {
      return false
    }
  })

  /** layerWith: the live client (KUBECONFIG, ~/.kube/config or in-cluster credentials) under `policy`. */
  static readonly layerWith = (policy: CallPolicy) =>
    Layer.effect(
      KubeClient,
      Effect.try({
        try: () => makeLiveTransport(loadDefaultConfig()),
        catch: (cause) =>
          new KubeConfigError({
            message: `cannot load Kubernetes credentials: ${cause instanceof Error ? cause.message : String(cause)}`
          })
      }).pipe(
        Effect.tap(({ server }) => Effect.logDebug(`kube: API server ${server}`)),
        Effect.map(({ server, transport }) => makeKubeClient(transport, policy, server))
      )
    )

  /** layer: the live client under DefaultCallPolicy (the server's background loops). */
  static readonly layer = KubeClient.layerWith(DefaultCallPolicy)

  /**
   * layerTest: KubeClient over the in-memory API server, plus FakeKube to drive it. Retries default to 3 with
   * a 1 ms backoff, so tests of transient failures need no clock control beyond `it.live` or TestClock.adjust.
   */
  static readonly layerTest = (policy: CallPolicy = { timeout: "5 seconds", retries: 3, backoff: "1 millis" }) =>
    Layer.effectContext(
      Effect.sync(() => {
        const { control, transport } = makeFakeTransport()
        return Context.make(KubeClient, makeKubeClient(transport, policy)).pipe(Context.add(FakeKube, control))
      })
    )
}

