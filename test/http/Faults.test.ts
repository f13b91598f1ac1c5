/**
 * Faults an attacker on the cluster network can cause with slow or stalled uploads (issue 9): neither may
 * leave the webhook unable to answer a normal review. Both were reproduced against the hand-written HTTP/1.1
 * reader this listener replaced: stalled bodies cut by the deadline never gave their bytes back to the body
 * budget (every later review of more than a few KB got 429 for good), and slow uploads took admission slots
 * before their bodies were in (a normal review then got no answer).
 */
import * as fs from "node:fs"
import * as tls from "node:tls"
import * as path from "node:path"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { baseConfig, ca, probe, result, send, startServer } from "./support.ts"

const fixture = JSON.parse(
  fs.readFileSync(path.resolve(import.meta.dirname, "../../bench/flyte-task-pod-review.json"), "utf8")
)

/** review: the fixture with `uid`, grown to about `bytes` with env entries (a large but valid Pod). */
const review = (uid: string, bytes = 0): string => {
  const r = structuredClone(fixture)
  r.request.uid = uid
  const env = (r.request.object.spec.containers[0].env ??= [])
  const entry = (i: number) => ({ name: `PADDING_${String(i).padStart(6, "0")}`, value: "x".repeat(200) })
  const each = JSON.stringify(entry(0)).length + 1
  const missing = bytes - JSON.stringify(r).length
  for (let i = 0; i < missing / each; i++) env.push(entry(i))
  return JSON.stringify(r)
}

/**
 * stalledUpload sends the head and all of `body` but its last byte over raw TLS, and keeps the connection open
 * without ever closing its side (as an attacker's client would); `answered` is the status line it reads.
 */
const stalledUpload = (port: number, pathAndQuery: string, body: string) => {
  const head = `POST ${pathAndQuery} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`
  const socket = tls.connect({ host: "127.0.0.1", port, ca: ca.certPem, servername: "localhost" }, () => {
    socket.write(head)
    socket.write(body.slice(0, -1))
  })
  const answered = new Promise<number>((resolve) => {
    let text = ""
    socket.on("data", (c: Buffer) => {
      text += c.toString("latin1")
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)
      if (status !== null) resolve(Number(status[1]))
    })
    socket.on("error", () => resolve(-1))
    socket.on("close", () => resolve(-2))
  })
  return { req: socket, answered }
}

describe("stalled bodies near the body budget", () => {
  let server: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    server = await startServer({
      review: (body) =>
        Effect.succeed(result((body as { request: { uid: string } }).request.uid, "unchanged", { allowed: true }))
    })
  })
  afterAll(() => server.dispose())

  it("ten uploads stalled one byte short (~64 MiB, cut by their deadline), then a 300 KB review is answered 200", async () => {
    // 10 x 6.7 MB = 67,000,000 of the default 64 MiB (67,108,864) budget; each request's deadline is 0.5 s.
    const stalled = Array.from({ length: 10 }, (_, i) =>
      stalledUpload(server.port, "/mutate?timeout=1s", review(`stalled-${i}`, 6_700_000)))
    const statuses = await Promise.all(stalled.map((s) => s.answered))
    expect(statuses).toStrictEqual(Array(10).fill(504))
    const answer = await send(server.port, "/mutate?timeout=10s", review("after-stalls", 300_000))
    expect(answer.status).toBe(200)
    expect(answer.json().response.uid).toBe("after-stalls")
    for (const s of stalled) s.req.destroy()
  }, 60_000)
})

/** malformedChunked sends `body` as one chunk of a chunked upload, then a chunk size that is not hex. */
const malformedChunked = (port: number, body: string) => {
  const head = "POST /mutate?timeout=10s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" +
    "Transfer-Encoding: chunked\r\n\r\n"
  const socket = tls.connect({ host: "127.0.0.1", port, ca: ca.certPem, servername: "localhost" }, () => {
    socket.write(head)
    socket.write(`${Buffer.byteLength(body).toString(16)}\r\n${body}\r\nzz\r\n`)
  })
  return new Promise<number>((resolve) => {
    let text = ""
    socket.on("data", (c: Buffer) => {
      text += c.toString("latin1")
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)
      if (status !== null) resolve(Number(status[1]))
    })
    socket.on("error", () => resolve(-1))
    socket.on("close", () => resolve(-2))
  })
}

describe("bodies refused mid-body near the body budget", () => {
  let server: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    server = await startServer({
      review: (body) =>
        Effect.succeed(result((body as { request: { uid: string } }).request.uid, "unchanged", { allowed: true }))
    })
  })
  afterAll(() => server.dispose())

  it("ten chunked uploads (~64 MiB) refused at a malformed chunk, then a 300 KB review is answered 200", async () => {
    const statuses = await Promise.all(Array.from({ length: 10 }, (_, i) => malformedChunked(server.port, review(`bad-chunk-${i}`, 6_700_000))))
    expect(statuses).toStrictEqual(Array(10).fill(400))
    const answer = await send(server.port, "/mutate?timeout=10s", review("after-bad-chunks", 300_000))
    expect(answer.status).toBe(200)
    expect(answer.json().response.uid).toBe("after-bad-chunks")
  }, 60_000)
})

describe("slow uploads and admission slots", () => {
  let server: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    server = await startServer({
      config: baseConfig({ maxInFlight: 64 }),
      review: (body) =>
        Effect.succeed(result((body as { request: { uid: string } }).request.uid, "unchanged", { allowed: true }))
    })
  })
  afterAll(() => server.dispose())

  it("64 slow uploads open: a normal review is still answered 200 with its own review", async () => {
    const slow = Array.from({ length: 64 }, (_, i) => stalledUpload(server.port, "/mutate?timeout=30s", review(`slow-${i}`)))
    await new Promise((r) => setTimeout(r, 500)) // every slow upload's head is in
    const started = performance.now()
    const answer = await send(server.port, "/mutate?timeout=10s", review("normal"))
    const seconds = (performance.now() - started) / 1000
    expect(answer.status).toBe(200)
    // Not the deadline's refusal (the old reader answered only at the deadline, 9.5 s later): the review itself.
    expect(answer.json().response).toStrictEqual({ uid: "normal", allowed: true })
    expect((await probe(server.probePort, "/readyz")).status).toBe(200)
    console.log(`normal review answered in ${seconds.toFixed(3)} s with 64 slow uploads open`)
    for (const s of slow) s.req.destroy()
  }, 30_000)
})
