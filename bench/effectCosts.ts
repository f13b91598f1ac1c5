/**
 * `node bench/effectCosts.ts`: what the Effect combinators on the request path cost per call, on this machine,
 * in one process (no network): each variant runs an Effect that waits for one microtask (as a request waits for
 * its body), N times in a row, and prints µs per run over several rounds (the median decides; this shared
 * machine is noisy). It backs two choices in src/http and src/services:
 * - the deadline: `Effect.timeoutOrElse` (races the work against `Effect.sleep`: two forked fibers and a timer),
 *   the work forked into one child fiber that a timer interrupts (the request path until 50e4d49), and what
 *   src/http/AdmissionApp.ts does now: a timer that interrupts the request's own fiber, whose interruptible
 *   region ends in a handler turning that interruption into the fallback (run, as the platform runs a request,
 *   in an uninterruptible fiber);
 * - spans: `Effect.fn` (even with the tracer disabled) against `Effect.fnUntraced` (src/services/Spans.ts);
 * plus the scope forms for the body budget (`Effect.scoped` + `acquireRelease` against `ensuring`).
 * Usage: node bench/effectCosts.ts [runs per variant, default 100000] [rounds, default 5]
 */
import { Duration, Effect, type Exit, References } from "effect"

const N = Number(process.argv[2] ?? 100_000)
const ROUNDS = Number(process.argv[3] ?? 5)

const body = Effect.callback<number>((resume) => queueMicrotask(() => resume(Effect.succeed(1))))
const traced = Effect.fn("bench.traced")(function*() {
  return yield* body
})
const untraced = Effect.fnUntraced(function*() {
  return yield* body
})

/** The work in one child fiber, interrupted by a timer at the deadline (the caller resumes with the fallback). */
const forkedDeadline = <A>(self: Effect.Effect<A>, ms: number, orElse: () => A): Effect.Effect<A> =>
  Effect.flatMap(Effect.forkChild(self, { startImmediately: true }), (work) =>
    Effect.callback<A>((resume) => {
      const done = work.pollUnsafe()
      if (done !== undefined) return resume(done)
      const timer = setTimeout(() => {
        work.interruptUnsafe()
        resume(Effect.sync(orElse))
      }, ms)
      work.addObserver((exit: Exit.Exit<A>) => {
        clearTimeout(timer)
        resume(exit)
      })
      return Effect.sync(() => {
        clearTimeout(timer)
        work.interruptUnsafe()
      })
    }))

/** The request's own fiber interrupted by a timer, the interruption turned into the fallback (AdmissionApp.ts). */
const ownFiberDeadline = <A>(self: Effect.Effect<A>, ms: number, orElse: () => A): Effect.Effect<A> =>
  Effect.uninterruptible(Effect.withFiber((fiber) => {
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      fiber.interruptUnsafe()
    }, ms)
    return Effect.interruptible(self).pipe(
      Effect.catchCause((cause) => (timedOut ? Effect.sync(orElse) : Effect.failCause(cause))),
      Effect.ensuring(Effect.sync(() => clearTimeout(timer)))
    )
  }))

const variants: ReadonlyArray<readonly [string, () => Effect.Effect<unknown>]> = [
  ["the wait alone", () => body],
  ["Effect.timeoutOrElse", () => body.pipe(Effect.timeoutOrElse({ duration: Duration.seconds(10), orElse: () => Effect.succeed(2) }))],
  ["a child fiber and a timer", () => forkedDeadline(body, 10_000, () => 2)],
  ["a timer interrupting the own fiber", () => ownFiberDeadline(body, 10_000, () => 2)],
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
