/**
 * FakeCluster: the part of the in-memory API server (FakeTransport) that `doctor` reads: Services,
 * EndpointSlices, Namespaces, access reviews against RBAC-like rules, dry-run Pod creates answered by a
 * test-supplied admission (a real Mutator, a denial, a webhook that is not called), the service proxy and the
 * API server's own /metrics. Read-only from the client's side, like the checks it serves.
 */
import type { ApiFailure } from "./KubeErrors.ts"
import type { KubeTransport } from "./KubeTransport.ts"
import type { AccessQuestion, EndpointSlice, Namespace, Pod, PodDryRun, Service } from "./KubeTypes.ts"

/** Rule: one RBAC PolicyRule, for the fake's SubjectAccessReview. `namespace` unset = cluster-wide. */
export interface Rule {
  readonly verbs: ReadonlyArray<string>
  readonly apiGroups: ReadonlyArray<string>
  readonly resources: ReadonlyArray<string>
  readonly resourceNames?: ReadonlyArray<string>
  readonly namespace?: string
}

/** The user the fake calls the caller (the kubeconfig's identity); it may do anything unless refused. */
export const SelfUser = "<self>"

export interface FakeClusterControl {
  readonly putService: (service: Service) => void
  readonly putEndpointSlice: (slice: EndpointSlice) => void
  readonly putNamespace: (namespace: Namespace) => void
  /** grant: `user` may do what `rule` says (SubjectAccessReview answers from these). */
  readonly grant: (user: string, rule: Rule) => void
  /** refuseSelf: the caller may not `verb` on `resource` (SelfSubjectAccessReview, and the calls themselves). */
  readonly refuseSelf: (verb: string, resource: string) => void
  /** admitPods: how a dry-run Pod create is answered (default: admitted unchanged). */
  readonly admitPods: (admit: (namespace: string, pod: Pod) => Promise<PodDryRun>) => void
  /** proxy: how the service proxy answers (default: 503 no endpoints). */
  readonly proxy: (answer: (namespace: string, service: string, port: string, path: string, body: unknown) => Promise<unknown>) => void
  readonly setApiServerMetrics: (text: string) => void
}

type Call = <A>(operation: keyof KubeTransport, name: string, namespace: string | undefined, run: () => A | Promise<A>) => Promise<A>

const matches = (list: ReadonlyArray<string>, value: string) => list.includes("*") || list.includes(value)

const allows = (rule: Rule, question: AccessQuestion) =>
  matches(rule.verbs, question.verb) && matches(rule.apiGroups, question.group) &&
  matches(rule.resources, question.resource) &&
  (rule.resourceNames === undefined || (question.name !== undefined && rule.resourceNames.includes(question.name))) &&
  (rule.namespace === undefined || rule.namespace === question.namespace)

export const makeFakeCluster = (call: Call, fail: (failure: ApiFailure) => never) => {
  const services = new Map<string, Service>()
  const slices: Array<EndpointSlice> = []
  const namespaces = new Map<string, Namespace>()
  const grants: Array<{ readonly user: string; readonly rule: Rule }> = []
  const refused: Array<{ readonly verb: string; readonly resource: string }> = []
  let admit = async (_namespace: string, pod: Pod): Promise<PodDryRun> => ({ _tag: "Admitted", pod, warnings: [] })
  type ProxyAnswer = (namespace: string, service: string, port: string, path: string, body: unknown) => Promise<unknown>
  let proxy: ProxyAnswer = async (_namespace, service) =>
    fail({ status: 503, reason: "ServiceUnavailable", message: `no endpoints available for service "${service}"` })
  let metrics = ""

  const guard = (verb: string, resource: string) => {
    if (refused.some((r) => r.verb === verb && r.resource === resource)) {
      fail({ status: 403, reason: "Forbidden", message: `${resource} is forbidden: User "tester" cannot ${verb} resource "${resource}"` })
    }
  }
  const notFound = (what: string, name: string): never => fail({ status: 404, reason: "NotFound", message: `${what} "${name}" not found` })

  const transport = {
    getService: (namespace, name) =>
      call("getService", name, namespace, () => {
        guard("get", "services")
        return services.get(`${namespace}/${name}`) ?? notFound("services", name)
      }),
    listEndpointSlices: (namespace, serviceName) =>
      call("listEndpointSlices", serviceName, namespace, () => {
        guard("list", "endpointslices")
        return slices.filter((slice) =>
          slice.metadata.namespace === namespace && slice.metadata.labels?.["kubernetes.io/service-name"] === serviceName
        )
      }),
    getNamespace: (name) =>
      call("getNamespace", name, undefined, () => {
        guard("get", "namespaces")
        return namespaces.get(name) ?? notFound("namespaces", name)
      }),
    reviewAccess: (question) =>
      call("reviewAccess", question.user ?? SelfUser, question.namespace, () => {
        if (question.user !== undefined) {
          guard("create", "subjectaccessreviews")
          return { allowed: grants.some((g) => g.user === question.user && allows(g.rule, question)) }
        }
        return { allowed: !refused.some((r) => r.verb === question.verb && r.resource === question.resource) }
      }),
    createPodDryRun: (namespace, pod) =>
      call("createPodDryRun", pod.metadata.generateName === undefined ? String(pod.metadata.name) : String(pod.metadata.generateName), namespace, () => {
        guard("create", "pods")
        return admit(namespace, pod)
      }),
    proxyServicePost: (namespace, service, port, path, body) =>
      call("proxyServicePost", service, namespace, () => {
        guard("create", "services/proxy")
        return proxy(namespace, service, port, path, body)
      }),
    getApiServerMetrics: () =>
      call("getApiServerMetrics", "/metrics", undefined, () => {
        guard("get", "/metrics")
        return metrics
      })
  } satisfies Partial<KubeTransport>

  const control: FakeClusterControl = {
    putService: (service) => void services.set(`${service.metadata.namespace ?? "default"}/${service.metadata.name}`, structuredClone(service)),
    putEndpointSlice: (slice) => void slices.push(structuredClone(slice)),
    putNamespace: (namespace) => void namespaces.set(namespace.metadata.name, structuredClone(namespace)),
    grant: (user, rule) => void grants.push({ user, rule }),
    refuseSelf: (verb, resource) => void refused.push({ verb, resource }),
    admitPods: (handler) => void (admit = handler),
    proxy: (handler) => void (proxy = handler),
    setApiServerMetrics: (text) => void (metrics = text)
  }
  return { transport, control }
}
