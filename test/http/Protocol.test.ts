/**
 * Protocol: what Node's own HTTP/1.1 parser and server settings (src/http/AdmissionListener.ts) do for the
 * admission listener, tried with raw bytes over TLS as a hostile client would send them: timeouts for the head
 * and the whole request, heads too large, smuggling shapes, malformed chunks, a missing Host, pipelining, and
 * the connection cap. The timeouts are shortened through the `Limits` reference; the production values are
 * checked on the server object.
 */
import { Effect, Layer } from "effect"
import * as net from "node:net"
import * as tls from "node:tls"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { createAdmissionListener, LISTENER_LIMITS, Limits } from "../../src/http/AdmissionListener.ts"
import { DEFAULT_TLS_POLICY, secureContextOptions } from "../../src/http/TlsPolicy.ts"
import { baseConfig, ca, result, reviewBody, servingPair, startServer } from "./support.ts"

/** exchange writes `bytes` on a fresh TLS connection and collects everything until the server closes it. */
const exchange = (port: number, bytes: string | Buffer, waitMs = 5_000) =>
  new Promise<{ readonly text: string; readonly closed: boolean }>((resolve, reject) => {
    const chunks: Array<Buffer> = []
    const socket = tls.connect({ host: "127.0.0.1", port, ca: ca.certPem, servername: "localhost" }, () => {
      socket.write(bytes)
    })
    const timer = setTimeout(() => {
      socket.destroy()
      resolve({ text: Buffer.concat(chunks).toString("latin1"), closed: false })
    }, waitMs)
    socket.on("data", (c: Buffer) => chunks.push(c))
    socket.on("close", () => {
      clearTimeout(timer)
      resolve({ text: Buffer.concat(chunks).toString("latin1"), closed: true })
    })
    socket.on("error", (e) => (chunks.length > 0 ? undefined : reject(e)))
  })

/** statusLines: every response's status line (responses follow each other with no separator). */
const statusLines = (text: string) => [...text.matchAll(/HTTP\/1\.1 \d{3} [^\r]*/g)].map((m) => m[0])

const post = (uid: string, extra = "") => {
  const body = reviewBody(uid)
  return `POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${extra}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
}

describe("the production limits are set on the server", () => {
  it("keep-alive 120 s, head 10 s, request 35 s, 16 KiB heads, 100 headers, the connection cap", () => {
    const server = createAdmissionListener(secureContextOptions(servingPair, DEFAULT_TLS_POLICY), 1024)
    expect(server.keepAliveTimeout).toBe(120_000)
    expect(server.headersTimeout).toBe(10_000)
    expect(server.requestTimeout).toBe(35_000)
    expect(server.maxHeadersCount).toBe(100)
    expect(server.maxConnections).toBe(1024)
    expect(LISTENER_LIMITS.maxHeaderBytes).toBe(16 * 1024)
    server.close()
  })
})

describe("Node's parser and server limits on the admission listener", () => {
  let server: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    server = await startServer({
      config: baseConfig({ maxConnections: 8 }),
      review: (body) =>
        Effect.succeed(result((body as { request: { uid: string } }).request.uid, "unchanged", { allowed: true })),
      extra: Layer.succeed(Limits, { ...LISTENER_LIMITS, headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, checkIntervalMs: 200 })
    })
  })
  afterAll(() => server.dispose())

  it("pipelined requests are answered in order", async () => {
    const { text } = await exchange(server.port, post("p-1") + post("p-2") + post("p-3", "Connection: close\r\n"))
    expect(statusLines(text)).toStrictEqual(["HTTP/1.1 200 OK", "HTTP/1.1 200 OK", "HTTP/1.1 200 OK"])
    expect([...text.matchAll(/"uid":"(p-\d)"/g)].map((m) => m[1])).toStrictEqual(["p-1", "p-2", "p-3"])
  })

  it("an answer reaches the socket in one write: head and body together, no writev of a trailing empty chunk", async () => {
    // What the server's TLS sockets are asked to write while one request is answered.
    const writes: Array<string> = []
    type Writes = Record<"_write" | "_writev", (this: { _tlsOptions?: { isServer?: boolean } }, ...args: Array<unknown>) => void>
    const socket = net.Socket.prototype as unknown as Writes
    const original = { _write: socket._write, _writev: socket._writev }
    for (const name of ["_write", "_writev"] as const) {
      socket[name] = function(...args) {
        if (this._tlsOptions?.isServer === true) writes.push(name)
        return original[name].apply(this, args)
      }
    }
    try {
      const { text } = await exchange(server.port, post("w-1", "Connection: close\r\n"))
      expect(statusLines(text)).toStrictEqual(["HTTP/1.1 200 OK"])
      expect(writes).toStrictEqual(["_write"])
    } finally {
      Object.assign(socket, original)
    }
  })

  it("pipelined requests split across many small writes are answered in order", async () => {
    const all = Buffer.from(post("q-1") + post("q-2") + post("q-3", "Connection: close\r\n"))
    const chunks: Array<Buffer> = []
    for (let i = 0; i < all.length; i += 37) chunks.push(all.subarray(i, i + 37))
    const text = await new Promise<string>((resolve, reject) => {
      const got: Array<Buffer> = []
      const socket = tls.connect({ host: "127.0.0.1", port: server.port, ca: ca.certPem, servername: "localhost" }, () => {
        socket.cork()
        for (const c of chunks) socket.write(c)
        socket.uncork()
      })
      socket.on("data", (c: Buffer) => got.push(c))
      socket.on("close", () => resolve(Buffer.concat(got).toString("latin1")))
      socket.on("error", reject)
    })
    expect([...text.matchAll(/"uid":"(q-\d)"/g)].map((m) => m[1])).toStrictEqual(["q-1", "q-2", "q-3"])
  })

  it("a head that does not arrive in time: 408 and closed", async () => {
    const { text, closed } = await exchange(server.port, "POST /mutate HTTP/1.1\r\nHost: localhost\r\n")
    expect(closed).toBe(true)
    expect(statusLines(text)).toStrictEqual(["HTTP/1.1 408 Request Timeout"])
  })

  it("a body that does not arrive in time: closed (an answer may already have been sent at the deadline)", async () => {
    const { closed } = await exchange(
      server.port,
      "POST /mutate?timeout=30s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    )
    expect(closed).toBe(true)
  })

  it("a head over 16 KiB (2,000 headers): 431", async () => {
    const headers = Array.from({ length: 2_000 }, (_, i) => `X-H-${i}: v\r\n`).join("")
    const { text, closed } = await exchange(server.port, `POST /mutate HTTP/1.1\r\nHost: localhost\r\n${headers}\r\n`)
    expect(closed).toBe(true)
    expect(statusLines(text)).toStrictEqual(["HTTP/1.1 431 Request Header Fields Too Large"])
  })

  it.each([
    ["Transfer-Encoding with Content-Length", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"],
    ["two different Content-Lengths", "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}"],
    ["a chunk extension with a bare LF", "Transfer-Encoding: chunked\r\n\r\n2;ext\n{}\r\n0\r\n\r\n"],
    ["a chunk extension with a NUL", "Transfer-Encoding: chunked\r\n\r\n2;e\u0000x\r\n{}\r\n0\r\n\r\n"],
    ["a malformed chunk size", "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"]
  ])("%s: 400 and closed", async (_name, rest) => {
    const { text, closed } = await exchange(
      server.port,
      `POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n${rest}`
    )
    expect(closed).toBe(true)
    expect(statusLines(text)).toStrictEqual(["HTTP/1.1 400 Bad Request"])
  })

  it("no Host header: 400", async () => {
    const body = reviewBody("no-host")
    const { text } = await exchange(
      server.port,
      `POST /mutate HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`
    )
    expect(statusLines(text)).toStrictEqual(["HTTP/1.1 400 Bad Request"])
  })

  it("past webhook.maxConnections, new connections are closed at once; the open ones are served", async () => {
    const open: Array<tls.TLSSocket> = []
    for (let i = 0; i < 8; i++) {
      open.push(await new Promise<tls.TLSSocket>((resolve, reject) => {
        const s = tls.connect({ host: "127.0.0.1", port: server.port, ca: ca.certPem, servername: "localhost" }, () => resolve(s))
        s.on("error", reject)
      }))
    }
    const refused = await exchange(server.port, post("over-cap"), 3_000).catch((e: Error) => ({ text: e.message, closed: true }))
    expect(refused.closed).toBe(true)
    expect(statusLines(refused.text)).toStrictEqual([])
    const served = await new Promise<string>((resolve) => {
      const s = open[0]!
      const got: Array<Buffer> = []
      s.on("data", (c: Buffer) => got.push(c))
      s.on("close", () => resolve(Buffer.concat(got).toString("latin1")))
      s.write(post("in-cap", "Connection: close\r\n"))
    })
    expect(statusLines(served)).toStrictEqual(["HTTP/1.1 200 OK"])
    for (const s of open) s.destroy()
  })
})
