/**
 * KubeTransport: one attempt of each API call KubeClient makes, with no retries, timeouts or error typing.
 *
 * Two implementations: LiveTransport (@kubernetes/client-node against a real API server) and FakeTransport
 * (objects in memory, for tests). KubeClient wraps either with the same timeout, retry and classification, so
 * the fake exercises the real retry and error paths. A transport rejects with a TransportFailure, or with the
 * client library's own errors, which `toFailure` understands.
 */
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
import { type ApiFailure, statusFailure } from "./KubeErrors.ts"

export interface KubeTransport {
  readonly getSecret: (namespace: string, name: string, signal: AbortSignal) => Promise<Secret>
  readonly createSecret: (namespace: string, secret: Secret, signal: AbortSignal) => Promise<Secret>
  /** replaceSecret is a PUT: the API server refuses it with 409 Conflict when metadata.resourceVersion is stale. */
  readonly replaceSecret: (namespace: string, secret: Secret, signal: AbortSignal) => Promise<Secret>
  readonly getWebhookConfiguration: (name: string, signal: AbortSignal) => Promise<MutatingWebhookConfiguration>
  /** applyWebhookConfiguration is a server-side apply (PATCH application/apply-patch+yaml). */
  readonly applyWebhookConfiguration: (
    config: MutatingWebhookConfiguration,
    fieldManager: string,
    force: boolean,
    signal: AbortSignal
  ) => Promise<MutatingWebhookConfiguration>
  /** patchWebhookConfiguration is an RFC 6902 JSON patch. */
  readonly patchWebhookConfiguration: (
    name: string,
    ops: ReadonlyArray<JsonPatchOp>,
    fieldManager: string,
    signal: AbortSignal
  ) => Promise<MutatingWebhookConfiguration>
  readonly deleteWebhookConfiguration: (name: string, signal: AbortSignal) => Promise<void>
  // ---- read-only checks of a live installation (`doctor`) ----
  readonly getService: (namespace: string, name: string, signal: AbortSignal) => Promise<Service>
  /** listEndpointSlices: the slices labelled `kubernetes.io/service-name=<serviceName>`. */
  readonly listEndpointSlices: (namespace: string, serviceName: string, signal: AbortSignal) => Promise<ReadonlyArray<EndpointSlice>>
  readonly getNamespace: (name: string, signal: AbortSignal) => Promise<Namespace>
  /** reviewAccess: a SubjectAccessReview (with `user`) or a SelfSubjectAccessReview (without). */
  readonly reviewAccess: (question: AccessQuestion, signal: AbortSignal) => Promise<AccessAnswer>
  /** createPodDryRun: POST the Pod with `dryRun=All`; an API refusal resolves as `Refused`, not a rejection. */
  readonly createPodDryRun: (namespace: string, pod: Pod, signal: AbortSignal) => Promise<PodDryRun>
  /** proxyServicePost: POST `body` (JSON) to `path` of the Service through the API server's service proxy. */
  readonly proxyServicePost: (
    namespace: string,
    service: string,
    port: string,
    path: string,
    body: unknown,
    signal: AbortSignal
  ) => Promise<unknown>
  /** getApiServerMetrics: the API server's own `/metrics` text (RBAC: nonResourceURLs /metrics, get). */
  readonly getApiServerMetrics: (signal: AbortSignal) => Promise<string>
}

/** TransportFailure: a rejection carrying an ApiFailure as-is (used by the fake and by timeouts). */
export class TransportFailure extends Error {
  readonly failure: ApiFailure
  constructor(failure: ApiFailure) {
    super(failure.message)
    this.failure = failure
  }
}

const errorCode = (cause: unknown): string | undefined => {
  let current: unknown = cause
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code
    if (typeof code === "string") return code
    current = (current as { cause?: unknown }).cause
  }
  return undefined
}

/** innermost: the deepest `cause` message (undici's "fetch failed" wraps the socket error that says why). */
const innermost = (cause: unknown): string => {
  let current: unknown = cause
  let message = cause instanceof Error ? cause.message : String(cause)
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (current.message !== "") message = current.message
    current = (current as { cause?: unknown }).cause
  }
  return message
}

/**
 * toFailure reads any rejection of a transport call. The client library throws `ApiException` (numeric `code`
 * and the response `body`) for every non-2xx answer; undici's fetch throws `TypeError("fetch failed")` whose
 * `cause` holds the socket error (ECONNREFUSED, ENOTFOUND, certificate errors); an abort is an AbortError.
 * `server`, when known, is named in the message of a call that got no answer.
 */
export const toFailure = (cause: unknown, server?: string): ApiFailure => {
  if (cause instanceof TransportFailure) return cause.failure
  if (typeof cause === "object" && cause !== null && typeof (cause as { code?: unknown }).code === "number") {
    const { body, code } = cause as { code: number; body?: unknown }
    return statusFailure(code, body ?? (code === 401 ? { reason: "Unauthorized", message: "Unauthorized: check the credentials (token, client certificate)" } : undefined))
  }
  const text = innermost(cause)
  const code = errorCode(cause)
  const apiServer = server === undefined ? "API server" : `API server ${server}`
  return {
    status: undefined,
    reason: cause instanceof Error && cause.name === "AbortError" ? "Timeout" : "Unreachable",
    message: code === undefined || text.includes(code) ? `${apiServer} unreachable: ${text}` : `${apiServer} unreachable: ${text} (${code})`
  }
}
