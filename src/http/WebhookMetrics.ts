/**
 * WebhookMetrics: the webhook's Prometheus metrics, kept in plain counters and rendered in the text exposition
 * format (version 0.0.4) on the probe port.
 *
 * Hand-rolled rather than Effect's `Metric` + `PrometheusMetrics`: every admission request updates a counter,
 * the histogram and (per secret) the manager counters outside the review's fiber; through `Metric` that is an
 * extra effect run per request (0.87 µs against 0.016 µs here, docs/serve.md) for no gain.
 */
import type { MutationResult } from "../admission/MutationResult.ts"

/** Outcome of one admission request as counted: the Mutator's four plus the HTTP layer's own. */
export type RequestOutcome =
  | MutationResult["outcome"]
  /** refused by a limit: over capacity (429) or body too large (413) */
  | "rejected"
  /** not an admission request we can answer: bad JSON, wrong content type, route or method */
  | "invalid"
  /** answered in-band at the deadline */
  | "timeout"

const OUTCOMES: ReadonlyArray<RequestOutcome> = [
  "patched", "unchanged", "denied", "error", "rejected", "invalid", "timeout"
]

/** Latency buckets in seconds: sub-millisecond to the API server's 30 s maximum timeout. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

export interface Gauges {
  readonly inFlight: () => number
  readonly queued: () => number
  /** The most requests in work / waiting at once since start. */
  readonly peaks: () => { readonly inFlight: number; readonly queued: number }
  /** Request body bytes held now across all requests (src/http/BodyBudget.ts). */
  readonly bodyBytesHeld: () => number
  /** Unix seconds of the serving certificate's notAfter, or undefined before one is loaded. */
  readonly certificateExpiry: () => number | undefined
  /** New serving certificate pairs refused since start (TlsMaterial.reloadFailures). */
  readonly certificateReloadFailures: () => number
}

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, "\\\"")

export class WebhookMetrics {
  private readonly requests = new Map<RequestOutcome, number>(OUTCOMES.map((o) => [o, 0]))
  private readonly bucketCounts = new Float64Array(BUCKETS.length)
  private durationSum = 0
  private durationCount = 0
  private readonly injections = new Map<string, number>()
  private readonly failures = new Map<string, number>()
  private gauges: Gauges = {
    inFlight: () => 0,
    queued: () => 0,
    peaks: () => ({ inFlight: 0, queued: 0 }),
    bodyBytesHeld: () => 0,
    certificateExpiry: () => undefined,
    certificateReloadFailures: () => 0
  }

  /** setGauges wires the gauges read at scrape time. */
  setGauges(gauges: Gauges): void {
    this.gauges = gauges
  }

  /** observe counts one finished request and its duration. */
  observe(outcome: RequestOutcome, seconds: number): void {
    this.requests.set(outcome, (this.requests.get(outcome) ?? 0) + 1)
    this.durationSum += seconds
    this.durationCount++
    for (let i = 0; i < BUCKETS.length; i++) {
      if (seconds <= BUCKETS[i]!) {
        this.bucketCounts[i]!++
        break
      }
    }
  }

  /** countManagers records which manager served (or failed) each requested secret. */
  countManagers(result: MutationResult): void {
    for (const use of result.managers) {
      const map = use.ok ? this.injections : this.failures
      map.set(use.manager, (map.get(use.manager) ?? 0) + 1)
    }
  }

  /** requestCount reads one outcome's counter (tests, logs). */
  requestCount(outcome: RequestOutcome): number {
    return this.requests.get(outcome) ?? 0
  }

  /** render produces the Prometheus text exposition. */
  render(): string {
    const out: Array<string> = []
    const family = (name: string, type: string, help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)

    family("flyte_pod_webhook_requests_total", "counter", "Admission requests answered, by outcome.")
    for (const [outcome, n] of this.requests) out.push(`flyte_pod_webhook_requests_total{outcome="${outcome}"} ${n}`)

    family("flyte_pod_webhook_request_duration_seconds", "histogram", "Time from request headers to the answer.")
    let cumulative = 0
    for (let i = 0; i < BUCKETS.length; i++) {
      cumulative += this.bucketCounts[i]!
      out.push(`flyte_pod_webhook_request_duration_seconds_bucket{le="${BUCKETS[i]}"} ${cumulative}`)
    }
    out.push(`flyte_pod_webhook_request_duration_seconds_bucket{le="+Inf"} ${this.durationCount}`)
    out.push(`flyte_pod_webhook_request_duration_seconds_sum ${this.durationSum}`)
    out.push(`flyte_pod_webhook_request_duration_seconds_count ${this.durationCount}`)

    family("flyte_pod_webhook_requests_in_flight", "gauge", "Admission requests in work now.")
    out.push(`flyte_pod_webhook_requests_in_flight ${this.gauges.inFlight()}`)
    family("flyte_pod_webhook_requests_queued", "gauge", "Admission requests waiting for a slot now.")
    out.push(`flyte_pod_webhook_requests_queued ${this.gauges.queued()}`)
    const peaks = this.gauges.peaks()
    family("flyte_pod_webhook_requests_in_flight_peak", "gauge", "Most admission requests in work at once since start.")
    out.push(`flyte_pod_webhook_requests_in_flight_peak ${peaks.inFlight}`)
    family("flyte_pod_webhook_requests_queued_peak", "gauge", "Most admission requests waiting at once since start.")
    out.push(`flyte_pod_webhook_requests_queued_peak ${peaks.queued}`)

    family("flyte_pod_webhook_request_body_bytes_held", "gauge", "Request body bytes held now across all admission requests.")
    out.push(`flyte_pod_webhook_request_body_bytes_held ${this.gauges.bodyBytesHeld()}`)

    family("flyte_pod_webhook_injections_total", "counter", "Secrets injected, by secret manager.")
    for (const [manager, n] of this.injections) {
      out.push(`flyte_pod_webhook_injections_total{manager="${escapeLabel(manager)}"} ${n}`)
    }
    family("flyte_pod_webhook_injection_failures_total", "counter", "Secrets a manager failed to inject.")
    for (const [manager, n] of this.failures) {
      out.push(`flyte_pod_webhook_injection_failures_total{manager="${escapeLabel(manager)}"} ${n}`)
    }

    // The process itself, named as Prometheus' client libraries name them (process_*, nodejs_*).
    const memory = process.memoryUsage()
    const cpu = process.cpuUsage()
    family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.")
    out.push(`process_resident_memory_bytes ${memory.rss}`)
    family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.")
    out.push(`process_cpu_seconds_total ${(cpu.user + cpu.system) / 1e6}`)
    family("nodejs_heap_size_used_bytes", "gauge", "V8 heap in use, in bytes.")
    out.push(`nodejs_heap_size_used_bytes ${memory.heapUsed}`)
    family("nodejs_heap_size_total_bytes", "gauge", "V8 heap allocated, in bytes.")
    out.push(`nodejs_heap_size_total_bytes ${memory.heapTotal}`)

    const expiry = this.gauges.certificateExpiry()
    if (expiry !== undefined) {
      family(
        "flyte_pod_webhook_serving_certificate_expiry_timestamp_seconds",
        "gauge",
        "notAfter of the serving certificate in use, as Unix seconds."
      )
      out.push(`flyte_pod_webhook_serving_certificate_expiry_timestamp_seconds ${expiry}`)
    }
    family(
      "flyte_pod_webhook_certificate_reload_failures_total",
      "counter",
      "New serving certificate pairs refused at reload (unusable, not valid now, wrong names or not signed by ca.crt); the current pair was kept."
    )
    out.push(`flyte_pod_webhook_certificate_reload_failures_total ${this.gauges.certificateReloadFailures()}`)
    return `${out.join("\n")}\n`
  }
}
