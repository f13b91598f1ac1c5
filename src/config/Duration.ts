/**
 * Duration: config durations, in seconds. A number is seconds (`5`, `0.5`); a string is Go's duration syntax,
 * as Flyte's config reader (flytestdlib `config.Duration`, Go `time.ParseDuration`) takes it: `300ms`, `5s`,
 * `1m30s`, `1.5h`, units ns, us (or µs), ms, s, m, h; a bare string number is seconds too.
 */

const unitSeconds: Readonly<Record<string, number>> = {
  ns: 1e-9,
  us: 1e-6,
  "µs": 1e-6,
  "μs": 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600
}

const GO_DURATION = /^(?:[0-9]*\.?[0-9]+(?:ns|us|µs|μs|ms|s|m|h))+$/
const PART = /([0-9]*\.?[0-9]+)(ns|us|µs|μs|ms|s|m|h)/g

/** durationSeconds: the duration in seconds, or undefined when the value is not a non-negative duration. */
export const durationSeconds = (value: unknown): number | undefined => {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : undefined
  if (typeof value !== "string") return undefined
  const text = value.trim()
  if (/^[0-9]*\.?[0-9]+$/.test(text)) return Number(text)
  if (!GO_DURATION.test(text)) return undefined
  let total = 0
  for (const [, amount, unit] of text.matchAll(PART)) total += Number(amount) * (unitSeconds[unit ?? "s"] ?? 1)
  return total
}

/** formatSeconds: a duration for messages: `30s`, `500ms`, `24h`. */
export const formatSeconds = (seconds: number): string =>
  seconds >= 3600 && seconds % 3600 === 0
    ? `${seconds / 3600}h`
    : seconds >= 60 && seconds % 60 === 0
    ? `${seconds / 60}m`
    : seconds < 1 && seconds > 0
    ? `${Math.round(seconds * 1000)}ms`
    : `${seconds}s`
