/**
 * MutateHandler: the request path of `POST /mutate` and `POST /mutate--v1-pod`, hand-written on the listener's
 * Exchange (Http1.ts) because it runs for every Pod the cluster creates (docs/serve.md has the measurements).
 *
 * In order, each step cheap and answered at once when it fails: content type (415), declared length (413),
 * a slot in the AdmissionGate (429 + Retry-After), the body read with the 7 MiB cap (413), `JSON.parse`
 * (400), then the Mutator's effect, run on a pre-built context. A deadline from `?timeout=` covers the whole
 * request: at it the caller gets an in-band answer (AdmissionReview with the uid: a denial, or with
 * `onInjectionError: admit` an admission with a warning) or, before the uid is read, a 504 Status. The work
 * still running is interrupted; its slot frees when it has stopped.
 */
import { Cause, Exit, type Fiber } from "effect"
import type { BadReview } from "../admission/Mutator.ts"
import type { MutationResult } from "../admission/MutationResult.ts"
import type { OnInjectionError } from "../WebhookConfig.ts"
import type { AdmissionGate, Ticket } from "./AdmissionGate.ts"
import type { Deadline, Deadlines } from "./Deadlines.ts"
import type { Exchange, RequestHeaders, ResponseHeaders } from "./Http1.ts"
import { MAX_BODY_BYTES, requestDeadlineMs } from "./Limits.ts"
import type { RequestFields, RequestLog } from "./RequestLog.ts"
import { errorBody, identify, reviewAdmitWithWarning, reviewError, type ReviewIdentity, sendJson } from "./Responses.ts"
import type { RequestOutcome, WebhookMetrics } from "./WebhookMetrics.ts"

export interface MutateDeps {
  /**
   * review answers a parsed body: at once (an Exit), or by starting the Mutator's effect (a Fiber, which may
   * already be done when it returns).
   */
  readonly review: (
    body: unknown,
    headers: RequestHeaders
  ) => Exit.Exit<MutationResult, BadReview> | Fiber.Fiber<MutationResult, BadReview>
  readonly gate: AdmissionGate
  readonly metrics: WebhookMetrics
  readonly log: RequestLog
  readonly defaultTimeoutMs: number
  /** Body bytes held across all requests; see `webhook.maxBufferedBytes`. */
  readonly buffered: BodyBudget
  readonly onInjectionError: OnInjectionError
  /** Where each request's deadline is scheduled. */
  readonly deadlines: Deadlines
}

const isJsonContentType = (value: string | undefined): boolean => {
  if (value === undefined) return false
  const semi = value.indexOf(";")
  const media = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase()
  return media === "application/json"
}

/**
 * jsonErrorMessage keeps only the position from V8's parse error: its message quotes a piece of the body,
 * and a body (a Pod spec, maybe with secret values) must never reach a log line.
 */
const jsonErrorMessage = (cause: unknown): string => {
  const position = /at position (\d+)/.exec(cause instanceof Error ? cause.message : "")?.[1]
  return position === undefined ? "request body is not valid JSON" : `request body is not valid JSON (at byte ${position})`
}

/** BodyBudget: request body bytes held at once, across requests, against `webhook.maxBufferedBytes`. */
export class BodyBudget {
  held = 0
  readonly limit: number
  constructor(limit: number) {
    this.limit = limit
  }
  /** take reserves `bytes`, or says no when that would pass the limit. */
  take(bytes: number): boolean {
    if (this.held + bytes > this.limit) return false
    this.held += bytes
    return true
  }
  give(bytes: number): void {
    this.held -= bytes
  }
}

const TOO_LARGE = `request body is larger than ${MAX_BODY_BYTES} bytes (7 MiB, the API server's own ceiling)`

/** makeMutateHandler builds the handler; `query` is the raw query string (without `?`). */
export const makeMutateHandler = (deps: MutateDeps) =>
(exchange: Exchange, query: string): void => {
  const started = performance.now()
  let done = false
  let who: ReviewIdentity | undefined
  let fiber: Fiber.Fiber<MutationResult, BadReview> | undefined
  let release: (() => void) | undefined
  let timer: Deadline | undefined

  const finish = (
    outcome: RequestOutcome,
    status: number,
    body: string,
    fields?: Partial<RequestFields>,
    headers?: ResponseHeaders
  ) => {
    if (done) return
    done = true
    if (timer !== undefined) deps.deadlines.cancel(timer)
    sendJson(exchange, status, body, headers)
    const durationMs = performance.now() - started
    deps.metrics.observe(outcome, durationMs / 1000)
    deps.log.request({ outcome, status, durationMs, uid: who?.uid, ...fields })
  }

  const refuse = (outcome: RequestOutcome, code: number, reason: string, message: string, headers?: ResponseHeaders) =>
    finish(outcome, code, errorBody(code, reason, message, who), { reason: message }, headers)

  if (!isJsonContentType(exchange.headers["content-type"])) {
    const got = exchange.headers["content-type"] ?? "none"
    return refuse("invalid", 415, "UnsupportedMediaType", `content type ${got}; expected application/json`)
  }
  const declared = exchange.headers["content-length"]
  if (declared !== undefined && Number(declared) > MAX_BODY_BYTES) {
    return refuse("rejected", 413, "RequestEntityTooLarge", TOO_LARGE, { connection: "close" })
  }

  const onExit = (exit: Exit.Exit<MutationResult, BadReview>) => {
    release?.()
    if (done) return
    if (Exit.isSuccess(exit)) {
      const result = exit.value
      deps.metrics.countManagers(result)
      return finish(result.outcome, 200, JSON.stringify(result.review), {
        uid: result.uid,
        namespace: result.namespace,
        pod: result.pod,
        secrets: result.secrets,
        reason: result.message
      })
    }
    const bad = Cause.findErrorOption(exit.cause)
    if (bad._tag === "Some") {
      const e = bad.value
      if (e.uid !== undefined) who = { uid: e.uid, apiVersion: e.apiVersion ?? who?.apiVersion ?? "admission.k8s.io/v1" }
      return refuse("invalid", 400, "BadRequest", e.message)
    }
    if (Cause.hasInterruptsOnly(exit.cause)) return // interrupted by our deadline or a gone client
    deps.log.error("admission request failed with a defect", { uid: who?.uid, cause: Cause.pretty(exit.cause) })
    refuse("error", 500, "InternalError", "internal error in flyte-pod-webhook; see its log")
  }

  const onBody = (body: Buffer) => {
    if (done) return // answered at the deadline while the body was still arriving; the slot is already free
    let parsed: unknown
    try {
      parsed = JSON.parse(body.toString("utf8"))
    } catch (cause) {
      release?.()
      return refuse("invalid", 400, "BadRequest", jsonErrorMessage(cause))
    }
    who = identify(parsed)
    let answer: Exit.Exit<MutationResult, BadReview> | Fiber.Fiber<MutationResult, BadReview>
    try {
      answer = deps.review(parsed, exchange.headers)
    } catch (cause) {
      release?.()
      deps.log.error("admission request failed with a defect", { uid: who?.uid, cause: String(cause) })
      return refuse("error", 500, "InternalError", "internal error in flyte-pod-webhook; see its log")
    }
    if (Exit.isExit(answer)) return onExit(answer)
    fiber = answer
    const exit = fiber.pollUnsafe()
    if (exit !== undefined) onExit(exit)
    else fiber.addObserver(onExit)
  }

  const start = (releaseSlot: () => void) => {
    release = releaseSlot
    if (done) return releaseSlot()
    readBody(exchange, deps.buffered, onBody, (reason) => {
      releaseSlot()
      if (reason === "tooLarge") refuse("rejected", 413, "RequestEntityTooLarge", TOO_LARGE, { connection: "close" })
      else {
        refuse("rejected", 429, "TooManyRequests", "flyte-pod-webhook holds too many request bytes; retry shortly", {
          "retry-after": "1",
          connection: "close"
        })
      }
    })
  }

  // The deadline is armed before the gate is entered: with the whole body already in, the request can be
  // answered before `enter` returns, and a timer armed after that would never be cleared (it would hold the
  // request's closures for the whole timeout).
  let ticket: Ticket | undefined
  const onDeadline = () => {
    if (done) return
    ticket?.cancel()
    fiber?.interruptUnsafe()
    if (fiber === undefined) release?.() // still reading the body: the slot is ours to free
    const seconds = (performance.now() - started) / 1000
    const message = `flyte-pod-webhook did not finish within ${seconds.toFixed(1)}s (the API server's timeout less a margin)`
    if (who === undefined) return refuse("timeout", 504, "Timeout", message)
    const body = deps.onInjectionError === "admit"
      ? reviewAdmitWithWarning(who, `${message}; admitted without injecting secrets`)
      : reviewError(who, 504, `${message}; the Pod was not created, retry`)
    finish("timeout", 200, body, { reason: message })
  }
  timer = deps.deadlines.schedule(requestDeadlineMs(query, deps.defaultTimeoutMs), onDeadline)

  ticket = deps.gate.enter(start)
  if (ticket === undefined) {
    return refuse("rejected", 429, "TooManyRequests", "flyte-pod-webhook is at capacity; retry shortly", {
      "retry-after": "1"
    })
  }
  if (done) return // answered already (the body was in when the request arrived)

  exchange.onGone(() => {
    if (done) return
    // The client went away before an answer: withdraw and stop the work; nothing to send.
    done = true
    deps.deadlines.cancel(timer)
    ticket?.cancel()
    fiber?.interruptUnsafe()
    if (fiber === undefined) release?.()
  })
}

/**
 * readBody collects the body up to MAX_BODY_BYTES, holding its bytes against the shared budget until the body
 * is handed on (or the connection goes); past either limit it stops collecting and calls `refused`.
 */
const readBody = (
  exchange: Exchange,
  budget: BodyBudget,
  onBody: (body: Buffer) => void,
  refused: (reason: "tooLarge" | "budget") => void
) => {
  const chunks: Array<Buffer> = []
  let size = 0
  let over = false
  const drop = () => {
    budget.give(size)
    size = 0
    chunks.length = 0
  }
  exchange.onGone(() => {
    if (!over) drop() // the bytes are no longer held here
    over = true
  })
  exchange.readBody((chunk) => {
    if (over) return
    const reason = size + chunk.length > MAX_BODY_BYTES ? "tooLarge" : budget.take(chunk.length) ? undefined : "budget"
    if (reason !== undefined) {
      over = true
      drop()
      return refused(reason)
    }
    size += chunk.length
    chunks.push(chunk)
  }, () => {
    if (over) return
    const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)
    drop()
    over = true
    onBody(body)
  })
}
