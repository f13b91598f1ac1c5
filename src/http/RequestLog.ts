/**
 * RequestLog: the per-request log lines of the admission listener, written through the program's Effect
 * logger (JSON lines at `webhook.logLevel`) so they look like every other line.
 *
 * Info: every denied or failed request. Debug: every request. Fields are identities and names only (uid,
 * namespace, pod, outcome, secret names, duration, reason), never a request body or a secret value.
 * Over-capacity refusals come in floods, so they are summarised: the first one, then one line per second
 * with the count.
 */
import { type Context, Effect } from "effect"
import type { RequestOutcome } from "./WebhookMetrics.ts"

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

export class RequestLog {
  private readonly run: (effect: Effect.Effect<void>) => void
  private readonly debugEnabled: boolean
  private rejectedSince = 0
  private rejectedWindowStart = 0

  constructor(context: Context.Context<never>, debugEnabled: boolean) {
    const fork = Effect.runForkWith(context)
    this.run = (effect) => void fork(effect)
    this.debugEnabled = debugEnabled
  }

  /** request logs one answered admission request. */
  request(fields: RequestFields): void {
    const noisy = NOISY.has(fields.outcome)
    if (!noisy && !this.debugEnabled) return
    if (fields.outcome === "rejected" && fields.status === 429 && !this.debugEnabled) return this.rejected(fields)
    const annotations = {
      uid: fields.uid,
      namespace: fields.namespace,
      pod: fields.pod,
      outcome: fields.outcome,
      status: fields.status,
      secrets: fields.secrets,
      reason: fields.reason,
      durationMs: Math.round(fields.durationMs * 1000) / 1000
    }
    const line = noisy ? Effect.logInfo("admission request") : Effect.logDebug("admission request")
    this.run(line.pipe(Effect.annotateLogs(annotations)))
  }

  /** error logs a defect in the request path (a bug), with its cause text. */
  error(message: string, detail: Record<string, unknown>): void {
    this.run(Effect.logError(message).pipe(Effect.annotateLogs(detail)))
  }

  private rejected(fields: RequestFields): void {
    const now = Date.now()
    if (now - this.rejectedWindowStart < 1000) {
      this.rejectedSince++
      return
    }
    const suppressed = this.rejectedSince
    this.rejectedSince = 0
    this.rejectedWindowStart = now
    this.run(
      Effect.logInfo("admission requests refused: over capacity").pipe(
        Effect.annotateLogs({ outcome: "rejected", status: fields.status, reason: fields.reason, refusedSincePreviousLine: suppressed })
      )
    )
  }
}
