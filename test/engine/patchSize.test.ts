/**
 * Bounding the work per review (issue 9): the patch a review would get is estimated from containers x injected items
 * before a single op is built, and a review whose patch would pass `maxPatchBytes` is refused naming the counts
 * (it follows onInjectionError like every other injection error). Nothing here times anything: what shows that no
 * huge ops array was built is that the answer has no patch and that the estimate alone, computed from the edits,
 * is what the message reports.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { decide } from "../../src/admission/Mutation.ts"
import { Patcher } from "../../src/services/Patcher.ts"
import { decodeRequest, isProblem } from "../../src/admission/AdmissionReview.ts"
import { DefaultMaxPatchBytes, estimatePatch } from "../../src/domain/PatchEstimate.ts"
import { encodeSecret } from "../../src/domain/SecretAnnotation.ts"
import { configDoc, editsFor, lookupFor, secret } from "../fixtures/Engine.ts"
import { reviewWith } from "../fixtures/Mutators.ts"
import { type Json, patchOf, pod, responseOf, review } from "../fixtures/Pods.ts"

/** fanOut: a Pod with `containers` containers asking for `secrets` distinct K8s env secrets. */
const fanOut = (containers: number, secrets: number) => {
  const requests = Array.from({ length: secrets }, (_, i) => secret({ group: `group-${i}`, key: "k", mountRequirement: "ENV_VAR" }))
  const annotations = Object.fromEntries(requests.map((s, i) => [`flyte.secrets/s${i}`, encodeSecret(s)]))
  const spec = { containers: Array.from({ length: containers }, (_, i) => ({ name: `c${i}`, image: "busybox" })) }
  return { requests, object: pod({ annotations, spec }) }
}

describe("fan-out reviews are refused before any op is built", () => {
  it.each([[2000, 300], [5000, 400]])("%i containers x %i secrets: the estimate is over 1 MiB, and the review is denied with the counts", (containers, secrets) => {
    const { object, requests } = fanOut(containers, secrets)
    const body = review(object)
    assert.isBelow(JSON.stringify(body).length, 250_000, "a review of at most ~220 KB (issue 9's was 186 KB)")
    const estimate = estimatePatch(object, editsFor(lookupFor(configDoc()), requests))
    assert.strictEqual(estimate.containers, containers)
    assert.strictEqual(estimate.envVars, secrets + 1) // one _FSEC_ var per secret, FLYTE_SECRETS_ENV_PREFIX once
    assert.strictEqual(estimate.mounts, 0)
    assert.isAbove(estimate.bytes, 40 * DefaultMaxPatchBytes)
    if (containers === 2000) assert.strictEqual(estimate.bytes, 110_224_000, "the figure docs/flyte-compat.md quotes")

    const result = Effect.runSync(reviewWith(body))
    const response = responseOf(result.review)
    assert.strictEqual(response["allowed"], false)
    assert.isUndefined(response["patch"])
    assert.strictEqual(result.outcome, "denied")
    assert.strictEqual(
      result.message,
      `flyte-pod-webhook: the patch for ${secrets} secrets would be about ${estimate.bytes} bytes ` +
        `(${containers} containers and init containers x ${secrets + 1} env vars and 0 mounts, plus ${estimate.other} bytes ` +
        "of volumes, init containers and annotations), above webhook.maxPatchBytes (1048576 bytes)"
    )
  })

  it("onInjectionError admit: admitted without secrets, with the same reason as a warning", () => {
    const { object } = fanOut(2000, 300)
    const result = Effect.runSync(reviewWith(review(object), configDoc({ onInjectionError: "admit" })))
    const response = responseOf(result.review)
    assert.strictEqual(response["allowed"], true)
    assert.isUndefined(response["patch"])
    assert.match(String((response["warnings"] as ReadonlyArray<string>)[0]), /above webhook\.maxPatchBytes \(1048576 bytes\); admitted without secrets/)
  })

  it("the engine's maxPatchBytes input: a small Pod passes the default and is refused under a tiny limit", () => {
    const { object } = fanOut(3, 2)
    const request = decodeRequest(review(object))
    if (isProblem(request)) throw new Error(request.message)
    const lookup = lookupFor(configDoc())
    const patcher = Patcher.pure
    assert.strictEqual(decide(request, { lookup, patcher }).outcome, "patched")
    const small = decide(request, { lookup, patcher, maxPatchBytes: 1024 })
    assert.strictEqual(small.outcome, "failed")
    assert.match(String(small.reason), /above webhook\.maxPatchBytes \(1024 bytes\)$/)
  })

  it("webhook.maxPatchBytes from the config file reaches the engine: 2Ki refuses a Pod the default lets through", () => {
    const body = review(fanOut(40, 12).object)
    assert.strictEqual(Effect.runSync(reviewWith(body)).outcome, "patched")
    const result = Effect.runSync(reviewWith(body, configDoc({ maxPatchBytes: "2Ki" })))
    assert.strictEqual(result.outcome, "denied")
    assert.isUndefined(responseOf(result.review)["patch"])
    assert.match(String(result.message), /above webhook\.maxPatchBytes \(2048 bytes\)$/)
  })

  it("the estimate is an upper bound of the real patch", () => {
    const { object, requests } = fanOut(40, 12)
    const result = Effect.runSync(reviewWith(review(object)))
    const patch = JSON.stringify(patchOf(result.review))
    const estimate = estimatePatch(object, editsFor(lookupFor(configDoc()), requests))
    assert.isAtLeast(estimate.bytes, patch.length)
    assert.isAtMost(estimate.bytes, 2 * patch.length, "and not far above it")
    assert.strictEqual((result.review["response"] as Json)["allowed"], true)
  })
})
