/**
 * KubeErrors: the typed failures of KubeClient, and the one place that turns an API server answer into them.
 *
 * The API server answers a failed call with a `Status` object whose `reason` says what happened
 * (k8s.io/apimachinery/pkg/apis/meta/v1 StatusReason): 404 NotFound, 409 AlreadyExists (create) or Conflict
 * (stale resourceVersion), 403 Forbidden, 429 TooManyRequests, 5xx. Transient failures (5xx, 429, no answer at
 * all) are retried by KubeClient and surface as Unavailable only when the retries are spent. Forbidden carries a
 * hint naming the RBAC rule that is missing, because "forbidden" alone sends an operator reading RBAC docs.
 */
import { Data } from "effect"

/** ApiFailure: what the transport saw. `status` is undefined when no HTTP answer arrived (refused, timeout). */
export interface ApiFailure {
  readonly status: number | undefined
  readonly reason: string
  readonly message: string
}

/** Target: the call, in RBAC terms (verb, resource, name, namespace; no namespace = cluster-scoped). */
export interface Target {
  readonly verb: "get" | "list" | "create" | "update" | "patch" | "delete"
  readonly resource: string
  readonly name: string
  readonly namespace?: string | undefined
}

interface Located {
  readonly resource: string
  readonly name: string
  readonly namespace?: string | undefined
  readonly message: string
}

/** NotFound: the object does not exist. */
export class NotFound extends Data.TaggedError("NotFound")<Located> {}

/** Conflict: the object changed since it was read (stale resourceVersion); re-read and retry. */
export class Conflict extends Data.TaggedError("Conflict")<Located> {}

/** AlreadyExists: a create lost to an object of the same name. */
export class AlreadyExists extends Data.TaggedError("AlreadyExists")<Located> {}

/** Forbidden: RBAC refused the call; `hint` names the rule to grant. */
export class Forbidden extends Data.TaggedError("Forbidden")<Located & { readonly verb: string; readonly hint: string }> {}

/** Unavailable: the API server did not answer usefully (5xx, 429, refused, timed out) after the retries. */
export class Unavailable extends Data.TaggedError("Unavailable")<Located & { readonly status: number | undefined }> {}

/** Rejected: any other refusal (400 bad request, 401 unauthenticated, 422 invalid); retrying will not help. */
export class Rejected extends Data.TaggedError("Rejected")<Located & { readonly status: number; readonly reason: string }> {}

export type KubeError = NotFound | Conflict | AlreadyExists | Forbidden | Unavailable | Rejected

/** isTransient: worth retrying the same request (5xx, 429 TooManyRequests, no answer). */
export const isTransient = (failure: ApiFailure): boolean =>
  failure.status === undefined || failure.status === 429 || failure.status >= 500

const describe = (target: Target): string =>
  `${target.resource} "${target.name}"${target.namespace === undefined ? "" : ` in namespace ${target.namespace}`}`

/**
 * forbiddenHint names the rule to grant. The verb is taken from the server's message when it names one
 * ("... cannot create resource ...": a server-side apply that creates needs `create`, not only `patch`).
 * `create` cannot be limited by resourceNames (the name is not known when it is authorised), so its hint
 * names no object.
 */
export const forbiddenHint = (target: Target, serverMessage: string): { readonly verb: string; readonly hint: string } => {
  const verb = /cannot (\w+) resource/.exec(serverMessage)?.[1] ?? target.verb
  const user = /User "([^"]+)"/.exec(serverMessage)?.[1]
  const scope = target.namespace === undefined ? " (cluster-scoped: a ClusterRole)" : ` in namespace ${target.namespace}`
  const object = verb === "create" ? target.resource : `${target.resource} "${target.name}"`
  const who = user === undefined ? "" : ` to ${user}`
  return { verb, hint: `grant "${verb}" on ${object}${scope}${who}` }
}

/** classify turns a failure that will not be retried (or whose retries are spent) into a typed error. */
export const classify = (target: Target, failure: ApiFailure): KubeError => {
  const located = { resource: target.resource, name: target.name, namespace: target.namespace }
  const message = `${target.verb} ${describe(target)}: ${failure.message}`
  if (isTransient(failure)) return new Unavailable({ ...located, message, status: failure.status })
  switch (failure.status) {
    case 404:
      return new NotFound({ ...located, message })
    case 409:
      return failure.reason === "AlreadyExists" || target.verb === "create"
        ? new AlreadyExists({ ...located, message })
        : new Conflict({ ...located, message })
    case 403: {
      const { hint, verb } = forbiddenHint(target, failure.message)
      return new Forbidden({ ...located, message: `${message}; ${hint}`, verb, hint })
    }
    default:
      return new Rejected({ ...located, message, status: failure.status ?? 0, reason: failure.reason })
  }
}

/** statusFailure builds an ApiFailure from an HTTP status and the API `Status` body (JSON text or object). */
export const statusFailure = (status: number, body: unknown): ApiFailure => {
  let parsed: unknown = body
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body)
    } catch {
      parsed = { message: body.slice(0, 300) }
    }
  }
  const record = typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>) : {}
  const reason = typeof record["reason"] === "string" ? record["reason"] : `HTTP ${status}`
  const message = typeof record["message"] === "string" && record["message"] !== "" ? record["message"] : reason
  return { status, reason, message }
}
