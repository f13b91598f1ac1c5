/** Limits: 413, 415, 400, and the deadline from `?timeout=`, against a live server. */
import { Effect } from "effect"
import * as https from "node:https"
import * as tls from "node:tls"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { deadlineMs, parseGoDuration, requestDeadlineMs } from "../../src/http/Limits.ts"
import { baseConfig, ca, result, reviewBody, send, startServer } from "./support.ts"

describe("deadline arithmetic", () => {
  it.each([
    ["10s", 10_000], ["1m0s", 60_000], ["1.5s", 1_500], ["500ms", 500], ["1h2m3s", 3_723_000], ["", undefined],
    ["10", undefined], ["s", undefined], ["10x", undefined], ["-1s", undefined]
  ])("parseGoDuration(%j) = %j", (text, ms) => expect(parseGoDuration(text)).toBe(ms))

  it.each([[10_000, 9_500], [1_000, 500], [30_000, 29_500], [1, 50]])("deadlineMs(%d) = %d", (t, d) =>
    expect(deadlineMs(t)).toBe(d))

  it("uses the query's timeout, capped at 30 s, else the default", () => {
    expect(requestDeadlineMs("timeout=2s", 10_000)).toBe(1_500)
    expect(requestDeadlineMs("a=b&timeout=5s", 10_000)).toBe(4_500)
    expect(requestDeadlineMs("timeout=120s", 10_000)).toBe(29_500)
    expect(requestDeadlineMs("", 10_000)).toBe(9_500)
    expect(requestDeadlineMs("timeout=%zz", 10_000)).toBe(9_500)
  })
})

/** writeAllThenRead writes every buffer over one TLS connection, and only then reads until the server closes. */
const writeAllThenRead = (port: number, parts: ReadonlyArray<Buffer>) =>
  new Promise<string>((resolve, reject) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca: ca.certPem, servername: "localhost" }, async () => {
      for (const part of parts) {
        if (!socket.write(part)) await new Promise((r) => socket.once("drain", r))
      }
      const chunks: Array<Buffer> = []
      socket.on("data", (c: Buffer) => chunks.push(c))
      socket.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    })
    socket.on("error", reject)
  })

/** sendChunked streams `total` bytes of JSON-ish filler without a content-length. */
const sendChunked = (port: number, total: number) =>
  new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = https.request({
      host: "127.0.0.1", port, path: "/mutate", method: "POST", ca: ca.certPem, agent: false,
      headers: { "content-type": "application/json", "transfer-encoding": "chunked" }
    }, (res) => {
      let text = ""
      res.on("data", (c) => (text += c))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }))
    })
    req.on("error", reject)
    const chunk = Buffer.alloc(64 * 1024, 0x20)
    let sent = 0
    const pump = () => {
      while (sent < total) {
        sent += chunk.length
        if (!req.write(chunk)) return void req.once("drain", pump)
      }
      req.end()
    }
    pump()
  })

describe("limits", () => {
  let server: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    server = await startServer({
      review: (body) => {
        const uid = (body as { request: { uid: string } }).request.uid
        return uid === "slow" ? Effect.never : Effect.succeed(result(uid, "unchanged", { allowed: true }))
      }
    })
  })
  afterAll(() => server.dispose())

  it("an 8 MiB body from a client that writes all of it before reading: a 413 it can read", async () => {
    // As Python's http.client does: the whole request is written, then the answer read. The server drains the
    // rest of the refused body instead of resetting the connection under it.
    const body = Buffer.alloc(8 * 1024 * 1024, 0x20)
    const head = `POST /mutate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${body.length}\r\nConnection: close\r\n\r\n`
    const raw = await writeAllThenRead(server.port, [Buffer.from(head), body])
    expect(raw.split("\r\n")[0]).toBe("HTTP/1.1 413 Payload Too Large")
    const answer = JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4))
    expect(answer.message).toBe("request body is larger than 7340032 bytes (7 MiB, the API server's own ceiling)")
    expect(answer.reason).toBe("RequestEntityTooLarge")
  })

  it("declared body too large to drain (64 MiB): 413 at once, connection closed", async () => {
    const answer = await send(server.port, "/mutate", "{}", { headers: { "content-length": String(64 * 1024 * 1024) } })
      .catch((e: Error) => ({ status: -1, text: e.message, headers: {}, json: () => ({}) }))
    expect(answer.status).toBe(413)
    expect(answer.headers).toMatchObject({ connection: "close" })
    expect(answer.json().message).toBe("request body is larger than 7340032 bytes (7 MiB, the API server's own ceiling)")
  })

  it("streamed body over 7 MiB: 413", async () => {
    const answer = await sendChunked(server.port, 8 * 1024 * 1024).catch((e: Error) => ({ status: -1, text: e.message }))
    expect(answer.status).toBe(413)
    expect(JSON.parse(answer.text).reason).toBe("RequestEntityTooLarge")
  })

  it("a body just under 7 MiB is read (and answered 400: not JSON, without quoting the body)", async () => {
    const answer = await send(server.port, "/mutate", Buffer.alloc(7 * 1024 * 1024 - 10, 0x61))
    expect(answer.status).toBe(400)
    expect(answer.json().message).toBe("request body is not valid JSON")
  })

  it("wrong content type: 415", async () => {
    const answer = await send(server.port, "/mutate", reviewBody("u"), { headers: { "content-type": "text/plain" } })
    expect(answer.status).toBe(415)
    expect(answer.json()).toStrictEqual({
      kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure",
      message: "content type text/plain; expected application/json", reason: "UnsupportedMediaType", code: 415
    })
  })

  it("content type with charset is accepted", async () => {
    const answer = await send(server.port, "/mutate", reviewBody("u"), {
      headers: { "content-type": "application/json; charset=utf-8" }
    })
    expect(answer.status).toBe(200)
  })

  it("malformed JSON: 400 Status (no uid known)", async () => {
    const answer = await send(server.port, "/mutate", `{"request": {"uid": "x"`)
    expect(answer.status).toBe(400)
    const body = answer.json()
    expect(body.kind).toBe("Status")
    expect(body.reason).toBe("BadRequest")
    expect(body.message).toBe("request body is not valid JSON (at byte 23)")
  })

  it("deadline from ?timeout=: answered in-band (deny) before the caller gives up", async () => {
    const answer = await send(server.port, "/mutate?timeout=1s", reviewBody("slow"))
    expect(answer.status).toBe(200)
    const body = answer.json()
    expect(body.response.uid).toBe("slow")
    expect(body.response.allowed).toBe(false)
    expect(body.response.status.code).toBe(504)
    expect(body.response.status.message).toMatch(/did not finish within 0\.\ds/)
    expect(server.slots.stats().inFlight).toBe(0) // the interrupted work gave its slot back
  })
})

describe("deadline with onInjectionError: admit", () => {
  it("admits with a warning", async () => {
    const server = await startServer({
      config: baseConfig({ onInjectionError: "admit" }),
      review: () => Effect.never
    })
    try {
      const answer = await send(server.port, "/mutate?timeout=1s", reviewBody("slow"))
      expect(answer.status).toBe(200)
      const response = answer.json().response
      expect(response.allowed).toBe(true)
      expect(response.warnings[0]).toMatch(/admitted without injecting secrets$/)
    } finally {
      await server.dispose()
    }
  })
})
