/**
 * AdmissionApp: the admission listener's HTTP program, one Effect per request (run by @effect/platform-node's
 * server over node:https, src/http/WebhookServer.ts). Routes: `POST /mutate--v1-pod` (Flyte's registered path)
 * and `POST /mutate`; other paths 404, other methods 405 (with `Allow`); never a redirect (the API server must
 * not be sent elsewhere, CVE-2020-8561).
 *
 * For the mutate paths, in order, each step answered at once when it fails:
 * 1. content type (415) and declared length (past 7 MiB: 413, after draining what a client may still send);
 * 2. the body, read into the request's share of the body budget (RequestBody.ts; 413, or 429 when the budget is
 *    full), then `JSON.parse` (400; V8's message quotes the body, so only the byte position is kept);
 * 3. a slot (AdmissionSlots.ts; 429 + Retry-After when every slot and queue place is taken);
 * 4. the Mutator: schema decode (400 naming the fields) and the decision (200 with the AdmissionReview).
 * The deadline from `?timeout=` (Limits.ts) covers all of it: at it the caller gets an in-band answer
 * (Answers.deadline) and the work still running is interrupted. The body's bytes and the slot are given back in
 * finalizers, so every ending (answer, deadline, refusal, client gone, defect) gives them back.
 *
 * Steps 2-4 are the request's only interruptible region (the platform runs the rest uninterruptibly, and
 * interrupts the request's fiber when its client goes away). The deadline interrupts that fiber too, from a
 * check of the listener's deadlines (Deadlines.ts: one interval timer, not a timer per request): the region
 * ends with an interruption either way, which the step after it turns into the deadline's answer when the
 * deadline fired, and lets through otherwise (the client is gone: nothing to answer). So a request costs one
 * fiber, the platform's: a child fiber per request (Effect's `timeoutOrElse`, or a fork racing a timer) costs
 * several µs of the ~100 a review takes in the server (docs/serve.md, "Where the time goes").
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import { Cause, Context, Effect, type Fiber } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import type * as http from "node:http"
import type { AnswerBody } from "../admission/Answers.ts"
import { deadline, refusal } from "../admission/Answers.ts"
import type { BadReview, MutatorShape } from "../admission/Mutator.ts"
import type { MutationResult } from "../admission/MutationResult.ts"
import { identify, type ReviewIdentity } from "../admission/ReviewIdentity.ts"
import type { OnInjectionError } from "../WebhookConfig.ts"
import type { AdmissionSlots, AtCapacity } from "./AdmissionSlots.ts"
import type { BodyBudget, OpenHold } from "./BodyBudget.ts"
import { makeDeadlines } from "./Deadlines.ts"
import { MAX_BODY_BYTES, requestDeadlineMs } from "./Limits.ts"
import { type BodyError, DRAIN_BYTES, readBody } from "./RequestBody.ts"
import type { RequestFields, RequestLog } from "./RequestLog.ts"
import type { RequestOutcome, WebhookMetrics } from "./WebhookMetrics.ts"

export interface MutateDeps {
  /** With `webhook.clientNames`: why the request's TLS connection may not call the webhook, or undefined. */
  readonly refusedClient?: ((socket: object) => string | undefined) | undefined
  readonly mutator: MutatorShape
  readonly slots: AdmissionSlots
  readonly budget: BodyBudget
  readonly metrics: WebhookMetrics
  readonly log: RequestLog
  readonly defaultTimeoutMs: number
  readonly onInjectionError: OnInjectionError
  /** True from SIGTERM on: every answer then carries `Connection: close` (src/http/WebhookServer.ts, shutdown). */
  readonly closing: () => boolean
  /** Counts admission requests from their body's first byte to their answer (the shutdown waits for them). */
  readonly inWork: { count: number }
}

/** Answer: one request's answer, with what is logged and counted about it. */
interface Answer {
  readonly outcome: RequestOutcome
  readonly code: number
  readonly body: AnswerBody
  readonly headers?: Readonly<Record<string, string>>
  readonly fields?: Partial<RequestFields>
  readonly result?: MutationResult
}

const TOO_LARGE = `request body is larger than ${MAX_BODY_BYTES} bytes (7 MiB, the API server's own ceiling)`
const CLOSE = { connection: "close" } as const
const RETRY = { "retry-after": "1" } as const

const refused = (
  who: ReviewIdentity | undefined,
  outcome: RequestOutcome,
  code: number,
  reason: string,
  message: string,
  headers?: Readonly<Record<string, string>>
): Answer => ({
  outcome,
  code,
  body: refusal(who, code, reason, message),
  fields: { uid: who?.uid, reason: message },
  ...(headers === undefined ? {} : { headers })
})

const isJsonContentType = (value: string | undefined): boolean => {
  if (value === undefined) return false
  const semi = value.indexOf(";")
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase() === "application/json"
}

/**
 * parseJson keeps only the position from V8's parse error: its message quotes a piece of the body, and a body
 * (a Pod spec, maybe with secret values) must never reach a log line or an answer.
 */
const parseJson = (body: Buffer): { readonly value: unknown } | { readonly error: string } => {
  try {
    return { value: JSON.parse(body.toString("utf8")) }
  } catch (cause) {
    const position = /at position (\d+)/.exec(cause instanceof Error ? cause.message : "")?.[1]
    return { error: position === undefined ? "request body is not valid JSON" : `request body is not valid JSON (at byte ${position})` }
  }
}

const fromResult = (result: MutationResult): Answer => ({
  outcome: result.outcome,
  code: 200,
  body: result.review as AnswerBody,
  fields: { uid: result.uid, namespace: result.namespace, pod: result.pod, secrets: result.secrets, reason: result.message },
  result
})

/** MUTATE_PATHS: Flyte's registered path and the short one. */
export const MUTATE_PATHS: ReadonlySet<string> = new Set(["/mutate--v1-pod", "/mutate"])

/** makeAdmissionApp builds the listener's program from its dependencies. */
export const makeAdmissionApp = (deps: MutateDeps): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest> => {
  const deadlines = makeDeadlines()
  /**
   * The request's state while it is in work: the uid once read, whether the deadline fired, and when it began.
   * What it holds (its share of the body budget, its deadline entry, its count) is given back by `release`
   * in `mutate`.
   */
  interface InWork {
    who: ReviewIdentity | undefined
    timedOut: boolean
    readonly started: number
  }

  /** Steps 2-4 for a request whose head passed the checks (interruptible: the deadline or the client stops it). */
  const work = (source: http.IncomingMessage, state: InWork, hold: OpenHold) =>
    Effect.interruptible(
      Effect.flatMap(readBody(source, hold), (body): Effect.Effect<Answer, BadReview | AtCapacity> => {
        const parsed = parseJson(body)
        if ("error" in parsed) return Effect.succeed(refused(undefined, "invalid", 400, "BadRequest", parsed.error))
        state.who = identify(parsed.value)
        return Effect.map(deps.slots.withSlot(deps.mutator.review(parsed.value)), fromResult)
      })
    )

  /** What a request that did not end with an answer gets instead, by why it ended. */
  const otherwise = (state: InWork, cause: Cause.Cause<BodyError | BadReview | AtCapacity>): Effect.Effect<Answer> => {
    if (Cause.hasInterruptsOnly(cause)) {
      // The deadline answers in-band; a client that went away gets nothing (there is no one to answer).
      return state.timedOut ? Effect.succeed(atDeadline(state)) : Effect.failCause(cause as Cause.Cause<never>)
    }
    const failure = cause.reasons.find(Cause.isFailReason)
    if (failure === undefined) {
      return Effect.as(
        deps.log.defect(state.who?.uid, Cause.pretty(cause)),
        refused(state.who, "error", 500, "InternalError", "internal error in flyte-pod-webhook; see its log")
      )
    }
    const e = failure.error
    switch (e._tag) {
      case "BodyTooLarge":
        return Effect.succeed(refused(undefined, "rejected", 413, "RequestEntityTooLarge", TOO_LARGE, e.drained ? undefined : CLOSE))
      case "BudgetExceeded":
        return Effect.succeed(refused(undefined, "rejected", 429, "TooManyRequests", "flyte-pod-webhook holds too many request bytes; retry shortly", { ...RETRY, ...CLOSE }))
      case "BodyAborted":
        // The client is gone: nothing can be answered; the finalizer gives back what the request held.
        return Effect.interrupt
      case "AtCapacity":
        return Effect.succeed(refused(state.who, "rejected", 429, "TooManyRequests", "flyte-pod-webhook is at capacity; retry shortly", RETRY))
      case "BadReview": {
        const who = e.uid === undefined ? state.who : { uid: e.uid, apiVersion: e.apiVersion ?? "admission.k8s.io/v1" }
        return Effect.succeed(refused(who, "invalid", 400, "BadRequest", e.message))
      }
    }
  }

  const atDeadline = (state: InWork): Answer => ({
    outcome: "timeout",
    code: state.who === undefined ? 504 : 200,
    body: deadline(state.who, deps.onInjectionError, (performance.now() - state.started) / 1000),
    fields: { uid: state.who?.uid, reason: "deadline" }
  })

  const send = (answer: Answer, started: number): Effect.Effect<HttpServerResponse.HttpServerResponse> => {
    const durationMs = performance.now() - started
    deps.metrics.observe(answer.outcome, durationMs / 1000)
    if (answer.result !== undefined) deps.metrics.countManagers(answer.result)
    const headers = deps.closing() ? { ...answer.headers, ...CLOSE } : answer.headers
    const response = HttpServerResponse.text(JSON.stringify(answer.body), {
      status: answer.code,
      contentType: "application/json",
      ...(headers === undefined ? {} : { headers })
    })
    const line = deps.log.request({ outcome: answer.outcome, status: answer.code, durationMs, ...answer.fields })
    return line === undefined ? Effect.succeed(response) : Effect.as(line, response)
  }

  const mutate = (request: HttpServerRequest.HttpServerRequest, query: string, started: number, fiber: Fiber.Fiber<unknown, unknown>) => {
    const source = NodeHttpServerRequest.toIncomingMessage(request) as http.IncomingMessage
    // Headers are read through the platform's Headers (a null-prototype map: no name reads Object.prototype).
    const headers = request.headers
    const contentType = headers["content-type"]
    if (!isJsonContentType(contentType)) {
      const got = contentType === undefined ? "none" : contentType.slice(0, 100)
      return send(refused(undefined, "invalid", 415, "UnsupportedMediaType", `content type ${got}; expected application/json`), started)
    }
    const declared = Number(headers["content-length"] ?? 0)
    if (declared > DRAIN_BYTES) {
      // Too large to drain: refuse now and close; the client cannot be sent this answer if it never reads.
      return send(refused(undefined, "rejected", 413, "RequestEntityTooLarge", TOO_LARGE, CLOSE), started)
    }
    if (headers["expect"]?.toLowerCase() === "100-continue") {
      // Node leaves `Expect: 100-continue` to the handler; the body is read next, so ask for it.
      NodeHttpServerRequest.toServerResponse(request).writeContinue()
    }
    const state: InWork = { who: undefined, timedOut: false, started }
    const hold = deps.budget.open()
    const due = deadlines.add(started + requestDeadlineMs(query, deps.defaultTimeoutMs), () => {
      state.timedOut = true
      fiber.interruptUnsafe()
    })
    deps.inWork.count++
    // Plain code on the request's exit, not an Effect finalizer (onExitPrimitive runs it with no Effect step).
    const release = (): undefined => {
      deadlines.remove(due)
      hold.release()
      deps.inWork.count--
      return undefined
    }
    return work(source, state, hold).pipe(
      Effect.catchCause((cause) => otherwise(state, cause)),
      (answered) => Effect.onExitPrimitive(answered, release),
      Effect.flatMap((answer) => send(answer, started))
    )
  }

  return Effect.withFiber((fiber) => {
    const request = Context.getUnsafe(fiber.context, HttpServerRequest.HttpServerRequest)
    const started = performance.now()
    const url = request.url
    const q = url.indexOf("?")
    const path = q < 0 ? url : url.slice(0, q)
    if (deps.refusedClient !== undefined) {
      const refusal = deps.refusedClient(NodeHttpServerRequest.toIncomingMessage(request).socket)
      if (refusal !== undefined) return send(refused(undefined, "rejected", 403, "Forbidden", refusal, CLOSE), started)
    }
    if (!MUTATE_PATHS.has(path)) {
      const message = `no route ${JSON.stringify(path.slice(0, 200))}; use POST /mutate--v1-pod or /mutate`
      return send(refused(undefined, "invalid", 404, "NotFound", message), started)
    }
    if (request.method !== "POST") {
      const message = `method ${request.method.slice(0, 20)} not allowed; use POST`
      return send(refused(undefined, "invalid", 405, "MethodNotAllowed", message, { allow: "POST" }), started)
    }
    return mutate(request, q < 0 ? "" : url.slice(q + 1), started, fiber)
  })
}
