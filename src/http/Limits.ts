/**
 * Limits: the fixed request limits of the admission listener and the per-request deadline.
 *
 * Body size. controller-runtime (pkg/webhook/admission/http.go, `maxRequestSize`) derives 7 MiB from the API
 * server itself: k8s.io/apiserver `pkg/server/config.go` accepts write bodies up to 3 MB (twice etcd's
 * recommended 1.5 MiB request size, because JSON is larger than the protobuf stored in etcd); an
 * AdmissionReview carries at most two objects (`object` and `oldObject`) of that size plus under 1 MB of
 * everything else. A larger body cannot come from a real API server, so it is refused before it is read.
 *
 * Deadline. The API server appends `?timeout=<Go duration>` (its remaining time, rounded up to whole seconds;
 * `timeoutSeconds` 1-30, default 10) and gives up when it passes. We answer before that: the deadline is the
 * given time less half a second, but never less than half of it.
 */

/** MAX_BODY_BYTES: 7 MiB, controller-runtime's and the API server's ceiling (see above). */
export const MAX_BODY_BYTES = 7 * 1024 * 1024

/** DEADLINE_MARGIN_MS: answer this long before the API server's own timeout. */
export const DEADLINE_MARGIN_MS = 500

/** MAX_TIMEOUT_MS: the largest `timeoutSeconds` a webhook configuration accepts (30 s). */
export const MAX_TIMEOUT_MS = 30_000

/** MIN_DEADLINE_MS: floor for absurdly small timeouts (e.g. `timeout=1ms`). */
export const MIN_DEADLINE_MS = 50

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000
}

/** parseGoDuration reads a Go `time.Duration` string (`10s`, `1m30s`, `1.5s`, `500ms`) in ms; undefined if bad. */
export const parseGoDuration = (text: string): number | undefined => {
  if (text.length === 0 || text.length > 64) return undefined
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy
  let total = 0
  let consumed = 0
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    total += Number(m[1]) * (UNIT_MS[m[2]!] ?? Number.NaN)
    consumed = re.lastIndex
  }
  return consumed === text.length && Number.isFinite(total) ? total : undefined
}

/** timeoutParam extracts `timeout` from a raw query string without building a URL object. */
export const timeoutParam = (query: string): string | undefined => {
  for (const part of query.split("&")) {
    if (part.startsWith("timeout=")) return decodeURIComponent(part.slice(8))
  }
  return undefined
}

/** deadlineMs: how long we may take for a request whose caller waits `timeoutMs`. */
export const deadlineMs = (timeoutMs: number): number =>
  Math.max(MIN_DEADLINE_MS, Math.max(timeoutMs - DEADLINE_MARGIN_MS, timeoutMs / 2))

/** requestDeadlineMs: the deadline for a request with this query string, or the configured default. */
export const requestDeadlineMs = (query: string, defaultTimeoutMs: number): number => {
  if (query.length === 0) return deadlineMs(defaultTimeoutMs)
  let given: number | undefined
  try {
    const raw = timeoutParam(query)
    given = raw === undefined ? undefined : parseGoDuration(raw)
  } catch {
    given = undefined
  }
  return deadlineMs(given === undefined ? defaultTimeoutMs : Math.min(given, MAX_TIMEOUT_MS))
}
