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

describe("Deadlines: many requests come and go", () => {
  it("entries removed in any order leave none behind, and the ones left still fire", async () => {
    const deadlines = makeDeadlines(5)
    const fired: Array<number> = []
    const now = performance.now()
    const entries = Array.from({ length: 50 }, (_, i) => deadlines.add(now + (i % 2 === 0 ? 10 : 60_000), () => fired.push(i)))
    // Remove the head, the tail, and every third one in between.
    for (const [i, entry] of entries.entries()) if (i === 0 || i === 49 || i % 3 === 0) deadlines.remove(entry)
    deadlines.remove(entries[0]!) // twice: nothing happens
    const left = entries.filter((_, i) => !(i === 0 || i === 49 || i % 3 === 0))
    expect(deadlines.size()).toBe(left.length)
    await sleep(60)
    const due = [...Array(50).keys()].filter((i) => i % 2 === 0 && !(i === 0 || i === 49 || i % 3 === 0))
    expect(fired).toStrictEqual(due)
    for (const entry of entries) deadlines.remove(entry)
    expect(deadlines.size()).toBe(0)
  })
})
