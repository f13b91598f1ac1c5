/**
 * `node bench/effectCosts.ts`: what the Effect combinators on the request path cost per call, on this machine,
 * in one process (no network): each variant runs an Effect that waits for one microtask (as a request waits for
 * its body), N times in a row, and prints µs per run over several rounds (the median decides; this shared
 * machine is noisy). It backs two choices in src/http and src/services:
 * - the deadline: `Effect.timeoutOrElse` (races the work against `Effect.sleep`: two forked fibers and a timer)
 *   against src/http/Deadline.ts's `withDeadline` (one child fiber and a timer);
 * - spans: `Effect.fn` (even with the tracer disabled) against `Effect.fnUntraced` (src/services/Spans.ts);
 * plus the scope forms for the body budget (`Effect.scoped` + `acquireRelease` against `ensuring`).
 * Usage: node bench/effectCosts.ts [runs per variant, default 100000] [rounds, default 5]
 */
import { Duration, Effect, References } from "effect"
import { withDeadline } from "../src/http/Deadline.ts"

const N = Number(process.argv[2] ?? 100_000)
const ROUNDS = Number(process.argv[3] ?? 5)

const body = Effect.callback<number>((resume) => queueMicrotask(() => resume(Effect.succeed(1))))
const traced = Effect.fn("bench.traced")(function*() {
  return yield* body
})
const untraced = Effect.fnUntraced(function*() {
  return yield* body
})

const variants: ReadonlyArray<readonly [string, () => Effect.Effect<unknown>]> = [
  ["the wait alone", () => body],
  ["Effect.timeoutOrElse", () => body.pipe(Effect.timeoutOrElse({ duration: Duration.seconds(10), orElse: () => Effect.succeed(2) }))],
  ["withDeadline (src/http/Deadline.ts)", () => withDeadline(body, 10_000, () => 2)],
  ["Effect.scoped + acquireRelease", () => Effect.scoped(Effect.andThen(Effect.acquireRelease(Effect.sync(() => 1), () => Effect.void), body))],
  ["Effect.ensuring", () => Effect.ensuring(body, Effect.sync(() => 0))],
  ["Effect.fn, tracer disabled", () => traced()],
  ["Effect.fnUntraced", () => untraced()]
]

const timeOne = (make: () => Effect.Effect<unknown>): Promise<number> =>
  new Promise((resolve) => {
    const started = performance.now()
    let left = N
    const next = () => {
      const fiber = Effect.runFork(Effect.provideService(make(), References.TracerEnabled, false))
      fiber.addObserver(() => (--left === 0 ? resolve(((performance.now() - started) / N) * 1000) : next()))
    }
    next()
  })

const results = new Map<string, Array<number>>(variants.map(([name]) => [name, []]))
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, make] of round % 2 === 0 ? variants : [...variants].reverse()) {
    results.get(name)!.push(await timeOne(make))
  }
}
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const base = median(results.get("the wait alone")!)
console.log(`${N} runs per variant, median of ${ROUNDS} rounds (µs per run; extra = over the wait alone)`)
for (const [name, xs] of results) {
  const m = median(xs)
  console.log(`${name.padEnd(38)} ${m.toFixed(2).padStart(7)}  extra ${(m - base).toFixed(2).padStart(6)}   rounds ${xs.map((x) => x.toFixed(1)).join(" ")}`)
}
