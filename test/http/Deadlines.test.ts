/** Deadlines: one interval timer for all of a listener's request deadlines. */
import { describe, expect, it } from "vitest"
import { makeDeadlines } from "../../src/http/Deadlines.ts"

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("Deadlines", () => {
  it("fires an entry once its time has passed, once, and forgets it", async () => {
    const deadlines = makeDeadlines(5)
    const fired: Array<string> = []
    deadlines.add(performance.now() + 20, () => fired.push("a"))
    deadlines.add(performance.now() + 10_000, () => fired.push("late"))
    expect(fired).toStrictEqual([])
    await sleep(60)
    expect(fired).toStrictEqual(["a"])
    expect(deadlines.size()).toBe(1)
  })

  it("a removed entry never fires; with none left the timer stops (nothing keeps checking)", async () => {
    const deadlines = makeDeadlines(5)
    const fired: Array<string> = []
    const entry = deadlines.add(performance.now() + 10, () => fired.push("removed"))
    deadlines.remove(entry)
    await sleep(40)
    expect(fired).toStrictEqual([])
    expect(deadlines.size()).toBe(0)
    // A later entry starts the timer again.
    deadlines.add(performance.now(), () => fired.push("again"))
    await sleep(40)
    expect(fired).toStrictEqual(["again"])
  })

  it("an entry removed during a check by one that fired before it does not fire", async () => {
    const deadlines = makeDeadlines(5)
    const fired: Array<string> = []
    const now = performance.now()
    let second: ReturnType<typeof deadlines.add> | undefined
    deadlines.add(now, () => {
      fired.push("first")
      if (second !== undefined) deadlines.remove(second)
    })
    second = deadlines.add(now, () => fired.push("second"))
    await sleep(40)
    expect(fired).toStrictEqual(["first"])
    expect(deadlines.size()).toBe(0)
  })
})
