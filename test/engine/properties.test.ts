/**
 * Properties of the whole engine (AdmissionReview → Mutator → patch), over random Pods, secret requests and
 * configs (test/fixtures/PodArbitraries.ts), 1,000 runs each. The patch is applied with fast-json-patch, an
 * independent RFC 6902 implementation, with validation on.
 */
import { Effect } from "effect"
import * as fc from "fast-check"
import * as jsonpatch from "fast-json-patch"
import { assert, describe, it } from "vitest"
import type { MutationResult } from "../../src/admission/MutationResult.ts"
import { reviewWith } from "../fixtures/Mutators.ts"
import { scenario } from "../fixtures/PodArbitraries.ts"
import { clone, type Json, patchOf, responseOf, review } from "../fixtures/Pods.ts"

const Runs = { numRuns: 1000 }

type Scenario = typeof scenario extends fc.Arbitrary<infer A> ? A : never

const answer = (s: Scenario, object: Json): MutationResult =>
  Effect.runSync(reviewWith(review(object), s.config.document, s.config.env))

const opsOf = (result: MutationResult) => (patchOf(result.review) ?? []) as unknown as ReadonlyArray<jsonpatch.Operation>

/** mutated applies the answer's patch to a copy of the Pod (validating every op), or undefined when denied. */
const mutated = (s: Scenario): Json | undefined => {
  const result = answer(s, s.pod)
  if (responseOf(result.review)["allowed"] !== true) return undefined
  return jsonpatch.applyPatch(clone(s.pod), opsOf(result), true).newDocument
}
const asArray = (value: unknown): ReadonlyArray<Json> => (Array.isArray(value) ? value : [])
const obj = (value: unknown): Json => (typeof value === "object" && value !== null ? (value as Json) : {})
const without = (value: unknown, ...keys: ReadonlyArray<string>): Json => {
  const copy = { ...obj(value) }
  for (const key of keys) delete copy[key]
  return copy
}

/** startsWith: `after` keeps every element of `before` unchanged, in place (a missing or null array is empty). */
const startsWith = (after: unknown, before: unknown) => {
  const a = asArray(after)
  const b = asArray(before)
  assert.isAtLeast(a.length, b.length)
  assert.deepStrictEqual(a.slice(0, b.length), b)
}

/** sameContainer: a container changed only by env and volumeMounts appended. */
const sameContainer = (after: Json, before: Json) => {
  assert.deepStrictEqual(without(after, "env", "volumeMounts"), without(before, "env", "volumeMounts"))
  startsWith(after["env"], before["env"])
  startsWith(after["volumeMounts"], before["volumeMounts"])
}

const sameVolume = (after: Json, before: Json) => {
  assert.deepStrictEqual(without(after, "secret"), without(before, "secret"))
  assert.deepStrictEqual(without(after["secret"], "items"), without(before["secret"], "items"))
  const beforeItems = obj(before["secret"])["items"]
  if (Array.isArray(beforeItems)) startsWith(obj(after["secret"])["items"], beforeItems)
  else assert.deepStrictEqual(obj(after["secret"])["items"], beforeItems)
}

const duplicates = (values: ReadonlyArray<unknown>) => values.filter((v, i) => values.indexOf(v) !== i)

describe("engine properties (1,000 runs each)", () => {
  it("the patch applies cleanly with fast-json-patch (validation on)", () => {
    fc.assert(fc.property(scenario, (s) => {
      const result = answer(s, s.pod)
      const ops = opsOf(result)
      assert.isNull(jsonpatch.validate(ops, clone(s.pod)) ?? null)
      jsonpatch.applyPatch(clone(s.pod), ops, true)
      for (const op of ops) assert.strictEqual(op.op, "add")
    }), Runs)
  })

  it("mutating the output again adds nothing (idempotent)", () => {
    fc.assert(fc.property(scenario, (s) => {
      const once = mutated(s)
      if (once === undefined) return
      const again = answer(s, once)
      assert.strictEqual(responseOf(again.review)["allowed"], true)
      assert.isUndefined(patchOf(again.review))
    }), Runs)
  })

  it("fields we do not own are unchanged; existing elements of what we append to are untouched", () => {
    fc.assert(fc.property(scenario, (s) => {
      const after = mutated(s)
      if (after === undefined) return
      const before = s.pod
      assert.deepStrictEqual(without(after, "metadata", "spec"), without(before, "metadata", "spec"))
      assert.deepStrictEqual(without(after["metadata"], "annotations"), without(before["metadata"], "annotations"))
      for (const [key, value] of Object.entries(obj(obj(before["metadata"])["annotations"]))) {
        assert.strictEqual(obj(obj(after["metadata"])["annotations"])[key], value)
      }
      const [a, b] = [obj(after["spec"]), obj(before["spec"])]
      assert.deepStrictEqual(without(a, "volumes", "initContainers", "containers"), without(b, "volumes", "initContainers", "containers"))
      assert.strictEqual(asArray(a["containers"]).length, asArray(b["containers"]).length)
      asArray(b["containers"]).forEach((c, i) => sameContainer(asArray(a["containers"])[i]!, c))
      asArray(b["initContainers"]).forEach((c, i) => sameContainer(asArray(a["initContainers"])[i]!, c))
      asArray(b["volumes"]).forEach((v, i) => sameVolume(asArray(a["volumes"])[i]!, v))
      if (!Array.isArray(b["containers"])) assert.deepStrictEqual(a["containers"], b["containers"])
    }), Runs)
  })

  it("no duplicate env names, volume names or mount paths; volume names <= 63; every mount we add has its volume", () => {
    fc.assert(fc.property(scenario, (s) => {
      const after = mutated(s)
      if (after === undefined) return
      const spec = obj(after["spec"])
      const volumes = asArray(spec["volumes"])
      const names = volumes.map((v) => v["name"])
      assert.deepStrictEqual(duplicates(names), [])
      for (const name of names) assert.isAtMost(String(name).length, 63)
      const beforeSpec = obj(s.pod["spec"])
      const containers = [...asArray(spec["initContainers"]), ...asArray(spec["containers"])]
      const originals = [...asArray(beforeSpec["initContainers"]), ...asArray(beforeSpec["containers"])]
      assert.deepStrictEqual(duplicates(containers.map((c) => c["name"])), [], "container names are unique across init containers and containers")
      containers.forEach((c, i) => {
        assert.deepStrictEqual(duplicates(asArray(c["env"]).map((e) => e["name"])), [])
        const mounts = asArray(c["volumeMounts"])
        assert.deepStrictEqual(duplicates(mounts.map((m) => m["mountPath"])), [])
        assert.deepStrictEqual(duplicates(mounts.map((m) => m["name"])), [])
        const isNew = i >= asArray(beforeSpec["initContainers"]).length && i < asArray(spec["initContainers"]).length
        const existing = isNew ? 0 : asArray((originals.find((o) => o["name"] === c["name"]) ?? {})["volumeMounts"]).length
        for (const m of mounts.slice(existing)) assert.include(names, m["name"])
      })
    }), Runs)
  })
})
