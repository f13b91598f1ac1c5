/**
 * `node bench/engineLoop.ts [reviews per round, default 50000] [rounds, default 5]`: what the engine costs per
 * review on its own, in one process (no network, no HTTP): the real Mutator (SecretLookup, Patcher, the config's
 * defaults, Global secrets from an empty folder) on the benchmark's Flyte task Pod, run in a loop. Per round it
 * prints µs per review for `JSON.parse` of the body alone, for parse + review, and for parse + review +
 * `JSON.stringify` of the answer (what the server does with a body), so that the engine's own cost can be set
 * against what it costs in the server (`npm run bench`: the webhook's CPU per request less the HTTP layer's).
 */
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Mutator } from "../src/admission/Mutator.ts"
import { WebhookConfig } from "../src/WebhookConfig.ts"

const N = Number(process.argv[2] ?? 50_000)
const ROUNDS = Number(process.argv[3] ?? 5)
const text = fs.readFileSync(path.join(import.meta.dirname, "flyte-task-pod-review.json"), "utf8")
const secrets = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-engine-loop-"))

const layer = Mutator.layer.pipe(Layer.provide(WebhookConfig.layerTest({ secrets: { "secrets-prefix": secrets } })))

const perReview = (run: () => void): number => {
  const started = performance.now()
  for (let i = 0; i < N; i++) run()
  return ((performance.now() - started) / N) * 1000
}

const program = Effect.gen(function*() {
  const mutator = yield* Mutator
  const first = Effect.runSync(mutator.review(JSON.parse(text)))
  console.log(`engine loop: ${N} reviews per round, node ${process.version}; outcome ${first.outcome}, answer ${JSON.stringify(first.review).length} bytes`)
  for (let round = 1; round <= ROUNDS; round++) {
    const parse = perReview(() => JSON.parse(text))
    const review = perReview(() => Effect.runSync(mutator.review(JSON.parse(text))))
    const answer = perReview(() => JSON.stringify(Effect.runSync(mutator.review(JSON.parse(text))).review))
    console.log(
      `round ${round}: parse ${parse.toFixed(1)} µs; parse + review ${review.toFixed(1)} µs; ` +
        `parse + review + answer ${answer.toFixed(1)} µs; so the review and its answer ${(answer - parse).toFixed(1)} µs`
    )
  }
})

try {
  await Effect.runPromise(Effect.provide(program, layer))
} finally {
  fs.rmSync(secrets, { recursive: true, force: true })
}
