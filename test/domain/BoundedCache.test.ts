import { assert, describe, it } from "@effect/vitest"
import { boundedCache } from "../../src/domain/BoundedCache.ts"

describe("boundedCache", () => {
  it("computes each key once while it is held", () => {
    const calls: Array<string> = []
    const cached = boundedCache(2, (key) => {
      calls.push(key)
      return key.length === 0 ? undefined : key.toUpperCase()
    })
    assert.strictEqual(cached("a"), "A")
    assert.strictEqual(cached("a"), "A")
    assert.strictEqual(cached(""), undefined)
    assert.strictEqual(cached(""), undefined) // an undefined result is cached too
    assert.deepStrictEqual(calls, ["a", ""])
  })

  it("holds at most `capacity` entries, the oldest leaving first", () => {
    const calls: Array<string> = []
    const cached = boundedCache(2, (key) => (calls.push(key), key))
    cached("a")
    cached("b")
    cached("c") // evicts a
    cached("b")
    cached("a") // computed again
    assert.deepStrictEqual(calls, ["a", "b", "c", "a"])
  })
})
