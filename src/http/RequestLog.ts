/**
 * RequestLog: the per-request log lines of the admission listener, through the program's Effect logger (JSON
 * lines at `webhook.logLevel`) so they look like every other line.
 *
 * Info: every denied or failed request. Debug: every request. Fields are identities and names only (uid,
 * namespace, pod, outcome, secret names, duration, reason), never a request body or a secret value, and every
 * field a request chose is cut at MAX_FIELD characters with its full size noted: a 6 MB `apiVersion` or pod
 * name must not become a 6 MB log line. Over-capacity refusals come in floods, so they are summarised: the
 * first one, then one line per second with the count.
 */
import { Effect } from "effect"
import type { RequestOutcome } from "./WebhookMetrics.ts"

/** The longest request-chosen text a log line carries. */
export const MAX_FIELD = 256

/** bounded cuts `text` at `max` characters, noting the full length. */
export const bounded = (text: string, max = MAX_FIELD): string =>
  text.length <= max ? text : `${text.slice(0, max)}...(${text.length} characters)`

export interface RequestFields {
  readonly outcome: RequestOutcome
  readonly status: number
  readonly durationMs: number
  readonly uid?: string | undefined
  readonly namespace?: string | undefined
  readonly pod?: string | undefined
  readonly secrets?: ReadonlyArray<string> | undefined
  readonly reason?: string | undefined
}

const NOISY: ReadonlySet<RequestOutcome> = new Set(["denied", "error", "rejected", "invalid", "timeout"])
/** Secret names listed in one line at most. */
const MAX_SECRETS = 32

const boundedOrUndefined = (text: string | undefined, max?: number) => (text === undefined ? undefined : bounded(text, max))

const annotations = (fields: RequestFields) => ({
  uid: boundedOrUndefined(fields.uid),
  namespace: boundedOrUndefined(fields.namespace),
  pod: boundedOrUndefined(fields.pod),
  outcome: fields.outcome,
  status: fields.status,
  secrets: fields.secrets === undefined
    ? undefined
    : [
      ...fields.secrets.slice(0, MAX_SECRETS).map((s) => bounded(s)),
      ...(fields.secrets.length > MAX_SECRETS ? [`...(${fields.secrets.length} in all)`] : [])
    ],
  reason: boundedOrUndefined(fields.reason, 4 * MAX_FIELD),
  durationMs: Math.round(fields.durationMs * 1000) / 1000
})

export class RequestLog {
  private readonly debugEnabled: boolean
  private refusedSince = 0
  private refusedWindowStart = 0

  constructor(debugEnabled: boolean) {
    this.debugEnabled = debugEnabled
  }

  /** request: the log line of one answered admission request, or undefined when the level leaves it out. */
  request(fields: RequestFields): Effect.Effect<void> | undefined {
    const noisy = NOISY.has(fields.outcome)
    if (!noisy && !this.debugEnabled) return undefined
    if (fields.outcome === "rejected" && fields.status === 429 && !this.debugEnabled) return this.refused(fields)
    const line = noisy ? Effect.logInfo("admission request") : Effect.logDebug("admission request")
    return line.pipe(Effect.annotateLogs(annotations(fields)))
  }

  /** defect logs a bug in the request path, with its cause. */
  defect(uid: string | undefined, cause: string): Effect.Effect<void> {
    return Effect.logError("admission request failed with a defect").pipe(
      Effect.annotateLogs({ uid: boundedOrUndefined(uid), cause: bounded(cause, 16 * MAX_FIELD) })
    )
  }

  private refused(fields: RequestFields): Effect.Effect<void> | undefined {
    const now = Date.now()
    if (now - this.refusedWindowStart < 1000) {
      this.refusedSince++
      return undefined
    }
    const suppressed = this.refusedSince
    this.refusedSince = 0
    this.refusedWindowStart = now
    return Effect.logInfo("admission requests refused: over capacity").pipe(
      Effect.annotateLogs({
        outcome: "rejected",
        status: fields.status,
        reason: boundedOrUndefined(fields.reason),
        refusedSincePreviousLine: suppressed
      })
    )
  }
}
