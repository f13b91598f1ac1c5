/**
 * The body budget: bodies still arriving may hold at most `webhook.maxBufferedBytes` across all requests; past
 * it a request gets 429 at once, and the bytes are given back when bodies end or their clients go away.
 */
import { Effect } from "effect"
import * as https from "node:https"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BadReview } from "../../src/admission/Mutator.ts"
import { baseConfig, ca, result, reviewBody, send, startServer } from "./support.ts"

const MiB = 1024 * 1024

/** openUpload starts a POST that announces `total` bytes and sends `first` of them, then waits. */
const openUpload = (port: number, total: number, first: number) => {
  const req = https.request({
    host: "127.0.0.1",
    port,
    path: "/mutate",
    method: "POST",
    ca: ca.certPem,
    agent: false,
    headers: { "content-type": "application/json", "content-length": total }
  })
  const answer = new Promise<number>((resolve) => {
    req.on("response", (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    req.on("error", () => resolve(-1))
  })
  req.write(Buffer.alloc(first, 0x20))
  return { req, answer }
}

describe("body budget", () => {
  let server: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    server = await startServer({
      config: baseConfig({ maxBufferedBytes: 2 * MiB, maxInFlight: 16, maxQueue: 16 }),
      review: (body) =>
        Effect.succeed(result((body as { request: { uid: string } }).request.uid, "unchanged", { allowed: true }))
    })
  })
  afterAll(() => server.dispose())

  it("refuses a body that would pass the budget with 429, and recovers once the held bodies go", async () => {
    const first = openUpload(server.port, 3 * MiB, MiB + 512 * 1024) // holds 1.5 MiB
    // Wait until the server holds those bytes (the request has a slot and its chunks were read).
    await new Promise((r) => setTimeout(r, 1000))
    const second = openUpload(server.port, 3 * MiB, MiB) // 1.5 + 1 > 2 MiB: refused
    expect(await second.answer).toBe(429)
    second.req.destroy()

    first.req.destroy() // the client goes away: its bytes are given back
    await first.answer
    let status = 0
    for (let i = 0; i < 50 && status !== 200; i++) {
      status = (await send(server.port, "/mutate", reviewBody(`after-${i}`))).status
      if (status !== 200) await new Promise((r) => setTimeout(r, 20))
    }
    expect(status).toBe(200)
  })
})

/** eventually polls `check` until it holds (every 20 ms, up to 5 s). */
const eventually = async (check: () => boolean) => {
  for (let i = 0; i < 250 && !check(); i++) await new Promise((r) => setTimeout(r, 20))
  return check()
}

describe("every way a request ends gives back its bytes, its slot and its place", () => {
  let server: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    server = await startServer({
      config: baseConfig({ maxBufferedBytes: 4 * MiB, maxInFlight: 4, maxQueue: 4 }),
      review: (body) => {
        const uid = (body as { request: { uid: string } }).request.uid
        if (uid === "never") return Effect.never
        if (uid === "defect") return Effect.die(new Error("engine bug"))
        if (uid === "bad") return Effect.fail(new BadReview({ message: "request.kind is missing", uid }))
        return Effect.succeed(result(uid, "unchanged", { allowed: true }))
      }
    })
  })
  afterAll(() => server.dispose())

  const settled = () =>
    eventually(() => server.budget.held() === 0 && server.open() === 0 &&
      server.slots.stats().inFlight === 0 && server.slots.stats().queued === 0)

  it("an answer", async () => {
    expect((await send(server.port, "/mutate", reviewBody("answered"))).status).toBe(200)
    expect(await settled()).toBe(true)
  })

  it("the deadline, while the review is in work", async () => {
    const answer = await send(server.port, "/mutate?timeout=1s", reviewBody("never"))
    expect(answer.json().response.status.code).toBe(504)
    expect(await settled()).toBe(true)
  })

  it("the deadline, while the body is still arriving", async () => {
    const slow = https.request({
      host: "127.0.0.1", port: server.port, path: "/mutate?timeout=1s", method: "POST", ca: ca.certPem, agent: false,
      headers: { "content-type": "application/json", "content-length": MiB }
    })
    const status = new Promise<number>((resolve) => {
      slow.on("response", (res) => (res.resume(), resolve(res.statusCode ?? 0)))
      slow.on("error", () => resolve(-1))
    })
    slow.write(Buffer.alloc(MiB / 2, 0x20))
    expect(await status).toBe(504)
    expect(await settled()).toBe(true)
    slow.destroy()
  })

  it("a refusal mid-body: the body passes 7 MiB", async () => {
    const big = await send(server.port, "/mutate", Buffer.alloc(8 * MiB, 0x20)).catch(() => ({ status: -1 }))
    expect([413, 429]).toContain(big.status)
    expect(await settled()).toBe(true)
  })

  it("a refusal mid-body: the budget is full", async () => {
    const first = openUpload(server.port, 4 * MiB, 3 * MiB)
    await eventually(() => server.budget.held() >= 3 * MiB)
    const second = openUpload(server.port, 2 * MiB, 2 * MiB)
    expect(await second.answer).toBe(429)
    first.req.destroy()
    second.req.destroy()
    expect(await settled()).toBe(true)
  })

  it("the client going away mid-body", async () => {
    const upload = openUpload(server.port, 2 * MiB, MiB)
    await eventually(() => server.budget.held() >= MiB)
    upload.req.destroy()
    expect(await settled()).toBe(true)
  })

  it("the client going away while the review is in work", async () => {
    const req = https.request({
      host: "127.0.0.1", port: server.port, path: "/mutate?timeout=30s", method: "POST", ca: ca.certPem, agent: false,
      headers: { "content-type": "application/json" }
    })
    req.on("error", () => {})
    req.end(reviewBody("never"))
    await eventually(() => server.slots.stats().inFlight === 1)
    req.destroy()
    expect(await settled()).toBe(true)
  })

  /** hang starts a review that never finishes until its client goes away. */
  const hang = (uid: string) => {
    const req = https.request({
      host: "127.0.0.1", port: server.port, path: "/mutate?timeout=30s", method: "POST", ca: ca.certPem, agent: false,
      headers: { "content-type": "application/json" }
    })
    req.on("error", () => {})
    req.end(reviewBody(uid))
    return req
  }
  const waiting = () => server.slots.stats().inFlight + server.slots.stats().queued

  it("the deadline, while waiting for a slot", async () => {
    const hung = [0, 1, 2, 3].map(() => hang("never"))
    await eventually(() => server.slots.stats().inFlight === 4)
    const answer = await send(server.port, "/mutate?timeout=1s", reviewBody("queued"))
    expect(answer.json().response.status.code).toBe(504)
    expect(server.slots.stats().queued).toBe(0)
    for (const req of hung) req.destroy()
    expect(await settled()).toBe(true)
  })

  it("a refusal at capacity: every slot and queue place taken", async () => {
    const hung = Array.from({ length: 8 }, () => hang("never"))
    await eventually(() => waiting() === 8)
    const answer = await send(server.port, "/mutate", reviewBody("one-too-many"))
    expect(answer.status).toBe(429)
    for (const req of hung) req.destroy()
    expect(await settled()).toBe(true)
  })

  it("a body that is not JSON, and one that is not an AdmissionReview: 400", async () => {
    expect((await send(server.port, "/mutate", "{not json")).status).toBe(400)
    expect((await send(server.port, "/mutate", reviewBody("bad"))).status).toBe(400)
    expect(await settled()).toBe(true)
  })

  it("a defect in the engine: 500, and the server serves on", async () => {
    const answer = await send(server.port, "/mutate", reviewBody("defect"))
    expect(answer.status).toBe(500)
    expect(answer.text).not.toContain("engine bug")
    expect(await settled()).toBe(true)
    expect((await send(server.port, "/mutate", reviewBody("after-defect"))).status).toBe(200)
  })
})
