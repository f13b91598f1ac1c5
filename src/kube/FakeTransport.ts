/**
 * FakeTransport: an in-memory API server for tests, behind the same KubeTransport interface as the live one.
 *
 * It keeps Secrets and MutatingWebhookConfigurations with resourceVersions (bumped only when a write changes
 * the object, as the API server does), applies the defaults the API server fills into a v1 webhook (so
 * "same content twice = no write" is tested against defaulted objects), refuses a stale PUT with 409 Conflict
 * and a second create with 409 AlreadyExists, records every call, lets a test queue failures for a given
 * operation (any status, or no answer at all), and can hold calls at a barrier to force interleavings.
 */
import { JsonPatch, type Schema } from "effect"
import type { ApiFailure } from "./KubeErrors.ts"
import { type FakeClusterControl, makeFakeCluster } from "./FakeCluster.ts"
import { jsonEqual } from "./JsonEqual.ts"
import { type KubeTransport, TransportFailure } from "./KubeTransport.ts"
import type { JsonPatchOp, MutatingWebhook, MutatingWebhookConfiguration, Secret } from "./KubeTypes.ts"

export type Operation = keyof KubeTransport

export interface FakeCall {
  readonly operation: Operation
  readonly name: string
  readonly namespace: string | undefined
  readonly outcome: "ok" | "failed"
}

/** Injectable failures by name, or any ApiFailure. */
export type Injected = "Conflict" | "AlreadyExists" | "Forbidden" | "NotFound" | "Unavailable" | "Unreachable" | ApiFailure

const injected = (failure: Injected, call: { readonly name: string; readonly verb: string }): ApiFailure => {
  switch (failure) {
    case "Conflict":
      return { status: 409, reason: "Conflict", message: `Operation cannot be fulfilled on "${call.name}": the object has been modified; please apply your changes to the latest version and try again` }
    case "AlreadyExists":
      return { status: 409, reason: "AlreadyExists", message: `"${call.name}" already exists` }
    case "Forbidden":
      return { status: 403, reason: "Forbidden", message: `"${call.name}" is forbidden: User "system:serviceaccount:test:webhook" cannot ${call.verb} resource` }
    case "NotFound":
      return { status: 404, reason: "NotFound", message: `"${call.name}" not found` }
    case "Unavailable":
      return { status: 500, reason: "InternalError", message: "etcdserver: request timed out" }
    case "Unreachable":
      return { status: undefined, reason: "Unreachable", message: "API server unreachable: fetch failed (ECONNREFUSED)" }
    default:
      return failure
  }
}

const verbs: Record<Operation, string> = {
  getSecret: "get",
  createSecret: "create",
  replaceSecret: "update",
  getWebhookConfiguration: "get",
  applyWebhookConfiguration: "patch",
  patchWebhookConfiguration: "patch",
  deleteWebhookConfiguration: "delete",
  getService: "get",
  listEndpointSlices: "list",
  getNamespace: "get",
  reviewAccess: "create",
  createPodDryRun: "create",
  proxyServicePost: "create",
  getApiServerMetrics: "get"
}

/** defaultWebhook fills what the API server defaults in admissionregistration/v1 (SetDefaults_MutatingWebhook). */
const defaultWebhook = (webhook: MutatingWebhook): MutatingWebhook => ({
  failurePolicy: "Fail",
  matchPolicy: "Equivalent",
  namespaceSelector: {},
  objectSelector: {},
  timeoutSeconds: 10,
  reinvocationPolicy: "Never",
  ...webhook,
  clientConfig: webhook.clientConfig.service === undefined
    ? webhook.clientConfig
    : { ...webhook.clientConfig, service: { port: 443, ...webhook.clientConfig.service } },
  ...(webhook.rules === undefined ? {} : { rules: webhook.rules.map((rule) => ({ scope: "*", ...rule })) })
})

const clone = <A>(value: A): A => structuredClone(value)

const pointer = (document: unknown, path: string): unknown =>
  path.split("/").slice(1).map((token) => token.replace(/~1/g, "/").replace(/~0/g, "~")).reduce<unknown>(
    (node, token) => (typeof node === "object" && node !== null ? (node as Record<string, unknown>)[token] : undefined),
    document
  )

export interface FakeControl extends FakeClusterControl {
  /** calls: every call so far, in order. */
  readonly calls: () => ReadonlyArray<FakeCall>
  /** failNext: the next `times` calls of `operation` fail with `failure` (queued after earlier injections). */
  readonly failNext: (operation: Operation, failure: Injected, times?: number) => void
  /** barrier: the next `parties` calls of `operation` wait until all of them have arrived. */
  readonly barrier: (operation: Operation, parties: number) => void
  readonly secret: (namespace: string, name: string) => Secret | undefined
  readonly putSecret: (secret: Secret) => Secret
  readonly webhookConfiguration: (name: string) => MutatingWebhookConfiguration | undefined
  readonly putWebhookConfiguration: (config: MutatingWebhookConfiguration) => MutatingWebhookConfiguration
}

export const makeFakeTransport = (): { readonly transport: KubeTransport; readonly control: FakeControl } => {
  const secrets = new Map<string, Secret>()
  const configs = new Map<string, MutatingWebhookConfiguration>()
  const calls: Array<FakeCall> = []
  const failures = new Map<Operation, Array<Injected>>()
  const barriers = new Map<Operation, { parties: number; waiting: Array<() => void> }>()
  let version = 100

  const nextVersion = () => String(++version)
  const fail = (failure: ApiFailure): never => {
    throw new TransportFailure(failure)
  }

  const arrive = async (operation: Operation) => {
    const barrier = barriers.get(operation)
    if (barrier === undefined) return
    await new Promise<void>((resolve) => {
      barrier.waiting.push(resolve)
      if (barrier.waiting.length >= barrier.parties) {
        barriers.delete(operation)
        for (const release of barrier.waiting) release()
      }
    })
  }

  /** call runs one operation: barrier, injected failure, then the in-memory effect, recording the outcome. */
  const call = async <A>(operation: Operation, name: string, namespace: string | undefined, run: () => A | Promise<A>) => {
    await arrive(operation)
    const queued = failures.get(operation)?.shift()
    try {
      if (queued !== undefined) fail(injected(queued, { name, verb: verbs[operation] }))
      const result = await run()
      calls.push({ operation, name, namespace, outcome: "ok" })
      return clone(result)
    } catch (error) {
      calls.push({ operation, name, namespace, outcome: "failed" })
      throw error
    }
  }

  const notFound = (name: string) => fail({ status: 404, reason: "NotFound", message: `"${name}" not found` })
  const key = (namespace: string, name: string) => `${namespace}/${name}`

  const storeSecret = (namespace: string, secret: Secret): Secret => {
    const stored = clone({ apiVersion: "v1", kind: "Secret", ...secret, metadata: { ...secret.metadata, namespace, resourceVersion: nextVersion() } })
    secrets.set(key(namespace, secret.metadata.name), stored)
    return stored
  }

  const storeConfig = (config: MutatingWebhookConfiguration, previous: MutatingWebhookConfiguration | undefined) => {
    const candidate: MutatingWebhookConfiguration = clone({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "MutatingWebhookConfiguration",
      ...config,
      webhooks: (config.webhooks ?? []).map(defaultWebhook),
      metadata: { ...config.metadata, resourceVersion: previous?.metadata.resourceVersion ?? "" }
    })
    if (previous !== undefined && jsonEqual(candidate, previous)) return previous
    const stored = { ...candidate, metadata: { ...candidate.metadata, resourceVersion: nextVersion() } }
    configs.set(config.metadata.name, stored)
    return stored
  }

  const cluster = makeFakeCluster(call, fail)
  const transport: KubeTransport = {
    ...cluster.transport,
    getSecret: (namespace, name) =>
      call("getSecret", name, namespace, () => secrets.get(key(namespace, name)) ?? notFound(name)),
    createSecret: (namespace, secret) =>
      call("createSecret", secret.metadata.name, namespace, () =>
        secrets.has(key(namespace, secret.metadata.name))
          ? fail(injected("AlreadyExists", { name: secret.metadata.name, verb: "create" }))
          : storeSecret(namespace, secret)),
    replaceSecret: (namespace, secret) =>
      call("replaceSecret", secret.metadata.name, namespace, () => {
        const live = secrets.get(key(namespace, secret.metadata.name)) ?? notFound(secret.metadata.name)
        if (secret.metadata.resourceVersion !== live.metadata.resourceVersion) {
          fail(injected("Conflict", { name: secret.metadata.name, verb: "update" }))
        }
        return storeSecret(namespace, secret)
      }),
    getWebhookConfiguration: (name) =>
      call("getWebhookConfiguration", name, undefined, () => configs.get(name) ?? notFound(name)),
    applyWebhookConfiguration: (config) =>
      call("applyWebhookConfiguration", config.metadata.name, undefined, () => {
        const live = configs.get(config.metadata.name)
        const merged: MutatingWebhookConfiguration = live === undefined ? config : {
          ...live,
          ...config,
          metadata: {
            ...live.metadata,
            labels: { ...live.metadata.labels, ...config.metadata.labels },
            annotations: { ...live.metadata.annotations, ...config.metadata.annotations },
            name: config.metadata.name
          }
        }
        return storeConfig(merged, live)
      }),
    patchWebhookConfiguration: (name, ops) =>
      call("patchWebhookConfiguration", name, undefined, () => {
        const live = configs.get(name) ?? notFound(name)
        return storeConfig(applyOps(live, ops), live)
      }),
    deleteWebhookConfiguration: (name) =>
      call("deleteWebhookConfiguration", name, undefined, () => {
        if (!configs.delete(name)) notFound(name)
      })
  }

  const applyOps = (live: MutatingWebhookConfiguration, ops: ReadonlyArray<JsonPatchOp>): MutatingWebhookConfiguration => {
    const writes: Array<JsonPatch.JsonPatchOperation> = []
    for (const op of ops) {
      if (op.op === "test") {
        if (!jsonEqual(pointer(live, op.path), op.value)) {
          fail({ status: 422, reason: "Invalid", message: `the server rejected our request: test operation failed at ${op.path}` })
        }
      } else if (op.op !== "add" && pointer(live, op.path) === undefined) {
        fail({ status: 422, reason: "Invalid", message: `the server rejected our request: missing path ${op.path}` })
      } else {
        writes.push({ op: op.op, path: op.path, value: op.value as Schema.Json })
      }
    }
    return JsonPatch.apply(writes, live as unknown as Schema.Json) as unknown as MutatingWebhookConfiguration
  }

  const control: FakeControl = {
    ...cluster.control,
    calls: () => [...calls],
    failNext: (operation, failure, times = 1) => {
      const queue = failures.get(operation) ?? []
      for (let i = 0; i < times; i++) queue.push(failure)
      failures.set(operation, queue)
    },
    barrier: (operation, parties) => void barriers.set(operation, { parties, waiting: [] }),
    secret: (namespace, name) => clone(secrets.get(key(namespace, name))),
    putSecret: (secret) => clone(storeSecret(secret.metadata.namespace ?? "default", secret)),
    webhookConfiguration: (name) => clone(configs.get(name)),
    putWebhookConfiguration: (config) => clone(storeConfig(config, configs.get(config.metadata.name)))
  }
  return { transport, control }
}
