/** Deadlines: many deadlines on one timer; order, cancellation and re-arming for an earlier one. */
import { describe, expect, it } from "vitest"
import { Deadlines } from "../../src/http/Deadlines.ts"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("Deadlines", () => {
  it("fires each deadline once, in time order across delays, and never a cancelled one", async () => {
    const deadlines = new Deadlines()
    const fired: Array<string> = []
    deadlines.schedule(120, () => fired.push("a120"))
    const cancelled = deadlines.schedule(60, () => fired.push("cancelled"))
    deadlines.schedule(60, () => fired.push("b60"))
    deadlines.schedule(20, () => fired.push("c20")) // earlier than anything armed: the timer is re-armed
    deadlines.cancel(cancelled)
    deadlines.cancel(cancelled) // twice: nothing
    expect(deadlines.pending).toBe(3)
    await sleep(200)
    expect(fired).toStrictEqual(["c20", "b60", "a120"])
    expect(deadlines.pending).toBe(0)
  })

  it("nothing stays behind once every deadline is cancelled; a cancel after firing does nothing", async () => {
    const deadlines = new Deadlines()
    const entries = Array.from({ length: 1_000 }, () => deadlines.schedule(10_000, () => expect.unreachable()))
    for (const e of entries) deadlines.cancel(e)
    expect(deadlines.pending).toBe(0)
    let fired = 0
    const once = deadlines.schedule(5, () => fired++)
    await sleep(50)
    deadlines.cancel(once)
    expect(fired).toBe(1)
    expect(deadlines.pending).toBe(0)
  })

  it("a deadline scheduled from inside a firing one is kept", async () => {
    const deadlines = new Deadlines()
    const fired: Array<string> = []
    deadlines.schedule(10, () => {
      fired.push("first")
      deadlines.schedule(10, () => fired.push("second"))
    })
    await sleep(100)
    expect(fired).toStrictEqual(["first", "second"])
  })
})
