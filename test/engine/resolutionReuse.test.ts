/**
 * SecretLookup reuses a resolution for the same request for a second (every Pod of a task hands over the same
 * decoded SecretRequest): the managers run once a second per secret, not once per Pod; failures are never reused.
 */
import { afterEach, describe, expect, it, vi } from "vitest"
import { addEnv } from "../../src/domain/PodEdit.ts"
import { makeSecretRequest } from "../../src/domain/SecretRequest.ts"
import { injected, notFound, type SecretManager } from "../../src/services/managers/SecretManager.ts"
import { reusingResolutions, resolveWith } from "../../src/services/SecretLookup.ts"

/** counting: a manager that injects `found` keys, counting its calls. */
const counting = (found: ReadonlySet<string>) => {
  const calls = { count: 0 }
  const manager: SecretManager = {
    type: "Fake",
    inject: (secret) => {
      calls.count++
      return found.has(secret.key) ? injected([addEnv(`FAKE_${secret.key}`, "ref")]) : notFound("not here")
    }
  }
  return { manager, calls }
}

afterEach(() => {
  vi.useRealTimers()
})

describe("SecretLookup: a resolution is reused for a second", () => {
  it("the same request within a second: the managers run once, and the same edits come back", () => {
    vi.useFakeTimers({ toFake: ["performance"] })
    const { manager, calls } = counting(new Set(["password"]))
    const resolve = reusingResolutions(resolveWith([manager]))
    const request = makeSecretRequest({ group: "db", key: "password" })
    const first = resolve(request)
    vi.advanceTimersByTime(900)
    const second = resolve(request)
    expect(first._tag).toBe("Resolved")
    expect(second).toBe(first)
    expect(calls.count).toBe(1)
  })

  it("after a second the managers run again (a changed mounted Secret is seen)", () => {
    vi.useFakeTimers({ toFake: ["performance"] })
    const { manager, calls } = counting(new Set(["password"]))
    const resolve = reusingResolutions(resolveWith([manager]))
    const request = makeSecretRequest({ group: "db", key: "password" })
    resolve(request)
    vi.advanceTimersByTime(1_001)
    resolve(request)
    expect(calls.count).toBe(2)
  })

  it("a request nobody serves is worked out every time (its reasons are reported afresh)", () => {
    const { manager, calls } = counting(new Set())
    const resolve = reusingResolutions(resolveWith([manager]))
    const request = makeSecretRequest({ group: "db", key: "missing" })
    expect(resolve(request)._tag).toBe("Unresolved")
    expect(resolve(request)._tag).toBe("Unresolved")
    expect(calls.count).toBe(2)
  })

  it("an equal request that is another object is resolved on its own (reuse is by the decoded object)", () => {
    const { manager, calls } = counting(new Set(["password"]))
    const resolve = reusingResolutions(resolveWith([manager]))
    resolve(makeSecretRequest({ group: "db", key: "password" }))
    resolve(makeSecretRequest({ group: "db", key: "password" }))
    expect(calls.count).toBe(2)
  })
})
