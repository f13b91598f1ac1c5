/**
 * LiveTransport: KubeTransport on @kubernetes/client-node 2.0.1 (typed CoreV1Api, AdmissionregistrationV1Api and,
 * for `doctor`'s read-only checks, DiscoveryV1Api and AuthorizationV1Api; the service proxy and the API server's
 * /metrics through RawRequest). No discovery calls, so RBAC needs nothing beyond the objects we touch.
 *
 * Credentials come from `KubeConfig.loadFromDefault()`: `KUBECONFIG`, else `~/.kube/config`, else the in-cluster
 * service account (token and CA under /var/run/secrets/kubernetes.io/serviceaccount). Each call carries the
 * AbortSignal of its Effect through a per-call middleware, so a timeout or an interruption cancels the HTTP
 * request. The library deserialises answers into model classes; `toPlain` turns them back into plain JSON
 * (the model field names equal the wire names for every type used here, checked against the attribute maps).
 */
import {
  AdmissionregistrationV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  DiscoveryV1Api,
  KubeConfig,
  type ConfigurationOptions,
  Observable,
  type ObservableMiddleware,
  PatchStrategy,
  type RequestContext,
  type ResponseContext,
  type V1Pod,
  type V1Secret
} from "@kubernetes/client-node"
import { toFailure, type KubeTransport } from "./KubeTransport.ts"
import type { AccessAnswer, EndpointSlice, MutatingWebhookConfiguration, Namespace, PodDryRun, Secret, Service } from "./KubeTypes.ts"
import { parseJson, rawRequest, warningTexts } from "./RawRequest.ts"

const toPlain = <A>(value: unknown): A => JSON.parse(JSON.stringify(value)) as A

/**
 * callOptions sets the call's AbortSignal (and a Content-Type for patches) after the library built the request.
 * The object-parameter API runs on the Observable API (gen/types/ObjectParamAPI.js calls `.toPromise()`), so
 * per-call middleware must return the library's Observable; `append` keeps the client's own middleware.
 */
const callOptions = (signal: AbortSignal, contentType?: string): ConfigurationOptions => {
  const middleware: ObservableMiddleware = {
    pre: (context: RequestContext) => {
      context.setSignal(signal)
      if (contentType !== undefined) context.setHeaderParam("Content-Type", contentType)
      return new Observable(Promise.resolve(context))
    },
    post: (response: ResponseContext) => new Observable(Promise.resolve(response))
  }
  return { middleware: [middleware], middlewareMergeStrategy: "append" }
}

/**
 * loadDefaultConfig: `KUBECONFIG`, `~/.kube/config`, or in-cluster; throws when a file is unreadable or when
 * none exists (the library then falls back to http://localhost:8080, which only fails later and less clearly).
 */
export const loadDefaultConfig = (): KubeConfig => {
  const config = new KubeConfig()
  config.loadFromDefault()
  const cluster = config.getCurrentCluster()
  if (cluster === null || (cluster.name === "cluster" && cluster.server === "http://localhost:8080")) {
    throw new Error("no kubeconfig found: set KUBECONFIG, create ~/.kube/config, or run in a Pod with a service account")
  }
  return config
}

/** makeLiveTransport builds the typed clients for one kubeconfig. */
export const makeLiveTransport = (config: KubeConfig): { readonly transport: KubeTransport; readonly server: string } => {
  const core = config.makeApiClient(CoreV1Api)
  const admission = config.makeApiClient(AdmissionregistrationV1Api)
  const discovery = config.makeApiClient(DiscoveryV1Api)
  const authorization = config.makeApiClient(AuthorizationV1Api)
  const transport: KubeTransport = {
    getSecret: async (namespace, name, signal) =>
      toPlain<Secret>(await core.readNamespacedSecret({ namespace, name }, callOptions(signal))),
    createSecret: async (namespace, secret, signal) =>
      toPlain<Secret>(
        await core.createNamespacedSecret({ namespace, body: secret as V1Secret }, callOptions(signal))
      ),
    replaceSecret: async (namespace, secret, signal) =>
      toPlain<Secret>(
        await core.replaceNamespacedSecret(
          { namespace, name: secret.metadata.name, body: secret as V1Secret },
          callOptions(signal)
        )
      ),
    getWebhookConfiguration: async (name, signal) =>
      toPlain<MutatingWebhookConfiguration>(
        await admission.readMutatingWebhookConfiguration({ name }, callOptions(signal))
      ),
    applyWebhookConfiguration: async (body, fieldManager, force, signal) =>
      toPlain<MutatingWebhookConfiguration>(
        await admission.patchMutatingWebhookConfiguration(
          { name: body.metadata.name, body, fieldManager, force },
          callOptions(signal, PatchStrategy.ServerSideApply)
        )
      ),
    patchWebhookConfiguration: async (name, ops, fieldManager, signal) =>
      toPlain<MutatingWebhookConfiguration>(
        await admission.patchMutatingWebhookConfiguration(
          { name, body: ops, fieldManager },
          callOptions(signal, PatchStrategy.JsonPatch)
        )
      ),
    deleteWebhookConfiguration: async (name, signal) => {
      await admission.deleteMutatingWebhookConfiguration({ name }, callOptions(signal))
    },
    getService: async (namespace, name, signal) =>
      toPlain<Service>(await core.readNamespacedService({ namespace, name }, callOptions(signal))),
    listEndpointSlices: async (namespace, serviceName, signal) =>
      toPlain<{ items: ReadonlyArray<EndpointSlice> }>(
        await discovery.listNamespacedEndpointSlice(
          { namespace, labelSelector: `kubernetes.io/service-name=${serviceName}` },
          callOptions(signal)
        )
      ).items,
    getNamespace: async (name, signal) => toPlain<Namespace>(await core.readNamespace({ name }, callOptions(signal))),
    reviewAccess: async ({ user, groups, ...attributes }, signal) => {
      const resourceAttributes = { ...attributes }
      const review = user === undefined
        ? await authorization.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes } } }, callOptions(signal))
        : await authorization.createSubjectAccessReview(
          { body: { spec: { user, groups: [...(groups ?? [])], resourceAttributes } } },
          callOptions(signal)
        )
      return toPlain<AccessAnswer>(review.status ?? { allowed: false })
    },
    createPodDryRun: async (namespace, pod, signal): Promise<PodDryRun> => {
      try {
        const answer = await core.createNamespacedPodWithHttpInfo(
          { namespace, body: pod as unknown as V1Pod, dryRun: "All" },
          callOptions(signal)
        )
        return { _tag: "Admitted", pod: toPlain(answer.data), warnings: warningTexts(answer.headers["warning"]) }
      } catch (cause) {
        const failure = toFailure(cause)
        if (failure.status === undefined) throw cause
        return { _tag: "Refused", status: failure.status, reason: failure.reason, message: failure.message }
      }
    },
    proxyServicePost: (namespace, service, port, path, body, signal) =>
      rawRequest(config, {
        method: "POST",
        path: `/api/v1/namespaces/${namespace}/services/https:${service}:${port}/proxy${path}`,
        body,
        signal
      }).then(parseJson),
    getApiServerMetrics: (signal) => rawRequest(config, { method: "GET", path: "/metrics", signal })
  }
  return { transport, server: config.getCurrentCluster()?.server ?? "<none>" }
}
