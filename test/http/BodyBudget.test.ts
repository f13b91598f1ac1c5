/**
 * The body budget: bodies still arriving may hold at most `webhook.maxBufferedBytes` across all requests; past
 * it a request gets 429 at once, and the bytes are given back when bodies end or their clients go away.
 */
import { Effect } from "effect"
import * as https from "node:https"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
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
