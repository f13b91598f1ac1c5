/** PatchEstimate: UTF-8 sizes without encoding, and a Pod mutated before is never estimated larger (reinvocation). */
import * as jsonpatch from "fast-json-patch"
import { assert, describe, it } from "vitest"
import { plan } from "../../src/domain/Patcher.ts"
import { estimatePatch, utf8Bytes } from "../../src/domain/PatchEstimate.ts"
import { configDoc, editsFor, lookupFor, secret } from "../fixtures/Engine.ts"
import { clone, pod } from "../fixtures/Pods.ts"

describe("estimatePatch", () => {
  it.each(["", "abc", "straße", "€", "😀", "a\u0000b", "\ud800"])("utf8Bytes(%j) is Buffer.byteLength", (text) => {
    assert.strictEqual(utf8Bytes(text), Buffer.byteLength(text, "utf8"))
  })

  it("a Pod mutated before (its pullers added) is estimated the same: reinvocation is never refused for size", () => {
    const first = pod({ spec: { initContainers: [{ name: "init", image: "busybox" }], containers: [{ name: "a", image: "x" }, { name: "b", image: "x" }] } })
    const edits = editsFor(lookupFor(configDoc({ secretManagerType: "AWS" })), [secret({ group: "arn:g", key: "one" }), secret({ group: "arn:g", key: "two" })])
    const before = estimatePatch(first, edits)
    assert.strictEqual(before.containers, 5) // init, a, b and two pullers to add
    const again = jsonpatch.applyPatch(clone(first), plan(first, edits) as unknown as ReadonlyArray<jsonpatch.Operation>, true).newDocument
    const after = estimatePatch(again, edits)
    assert.strictEqual(after.containers, before.containers)
    assert.isAtMost(after.bytes, before.bytes)
  })
})
