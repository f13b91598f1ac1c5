/**
 * The admission listener's HTTP/1.1 reader (src/http/Http1.ts), byte for byte over real TLS connections:
 * what it accepts (Content-Length and chunked bodies, pipelining, 100-continue, keep-alive) and what it refuses
 * (smuggling shapes, malformed heads, oversized heads, slow heads), and how it closes.
 */
import * as tls from "node:tls"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type Exchange, Http1Server, parseHead } from "../../src/http/Http1.ts"
import { ca, servingPair } from "./support.ts"

interface Reply {
  readonly status: number
  readonly headers: Record<string, string>
  readonly body: string
}

/** parseReplies splits raw response bytes into complete answers (Content-Length framed). */
const parseReplies = (raw: string): Array<Reply> => {
  const replies: Array<Reply> = []
  let rest = raw
  for (;;) {
    const end = rest.indexOf("\r\n\r\n")
    if (end < 0) return replies
    const [statusLine, ...fields] = rest.slice(0, end).split("\r\n")
    const headers: Record<string, string> = {}
    for (const f of fields) headers[f.slice(0, f.indexOf(":")).toLowerCase()] = f.slice(f.indexOf(":") + 1).trim()
    const status = Number(statusLine!.split(" ")[1])
    if (status === 100) {
      replies.push({ status, headers, body: "" })
      rest = rest.slice(end + 4)
      continue
    }
    const length = Number(headers["content-length"] ?? 0)
    if (rest.length < end + 4 + length) return replies
    replies.push({ status, headers, body: rest.slice(end + 4, end + 4 + length) })
    rest = rest.slice(end + 4 + length)
  }
}

/** talk opens a TLS connection, sends `parts` (with `gapMs` between them) and collects until `until` holds. */
const talk = (
  port: number,
  parts: ReadonlyArray<string | Buffer>,
  until: (replies: Array<Reply>, closed: boolean) => boolean,
  gapMs = 0
): Promise<{ replies: Array<Reply>; closed: boolean }> =>
  new Promise((resolve, reject) => {
    let raw = ""
    let closed = false
    const socket = tls.connect({ host: "127.0.0.1", port, ca: ca.certPem, servername: "localhost", ALPNProtocols: ["http/1.1"] }, async () => {
      for (const part of parts) {
        socket.write(part)
        if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs))
      }
    })
    const check = () => {
      const replies = parseReplies(raw)
      if (until(replies, closed)) {
        clearTimeout(timer)
        socket.destroy()
        resolve({ replies, closed })
      }
    }
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no expected answer; got: ${JSON.stringify(raw)} closed=${closed}`))
    }, 8_000)
    socket.on("data", (c: Buffer) => {
      raw += c.toString("latin1")
      check()
    })
    socket.on("error", () => {})
    socket.on("close", () => {
      closed = true
      check()
    })
  })

const post = (path: string, body: string, extra = "") =>
  `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`

describe("Http1Server", () => {
  let server: Http1Server
  let port = 0
  const defects: Array<unknown> = []

  beforeAll(async () => {
    // The handler answers what it read: method, path and body; paths steer the special cases.
    const handler = (exchange: Exchange) => {
      if (exchange.url === "/throw") throw new Error("handler bug")
      if (exchange.url === "/early") return exchange.respond(413, { "content-type": "text/plain" }, "too big")
      if (exchange.url === "/slow") return void setTimeout(() => exchange.respond(200, {}, "late"), 300)
      const chunks: Array<Buffer> = []
      exchange.readBody((c) => chunks.push(c), () => {
        const body = Buffer.concat(chunks).toString("utf8")
        exchange.respond(200, { "content-type": "application/json" }, JSON.stringify({ method: exchange.method, url: exchange.url, body }))
      })
    }
    server = new Http1Server(
      { cert: servingPair.certPem, key: servingPair.keyPem, ALPNProtocols: ["http/1.1"] },
      { headersTimeoutMs: 1_000, requestTimeoutMs: 3_000, keepAliveTimeoutMs: 1_500, maxHeaderBytes: 16 * 1024 },
      handler,
      (cause) => defects.push(cause)
    )
    await new Promise<void>((resolve) => server.server.listen(0, "127.0.0.1", resolve))
    port = (server.server.address() as { port: number }).port
  })
  afterAll(() => server.close(1_000))

  it("a Content-Length body; the connection stays open (keep-alive)", async () => {
    const { replies, closed } = await talk(port, [post("/a?x=1", '{"k":"v"}')], (r) => r.length === 1)
    expect(replies[0]!.status).toBe(200)
    expect(JSON.parse(replies[0]!.body)).toStrictEqual({ method: "POST", url: "/a?x=1", body: '{"k":"v"}' })
    expect(replies[0]!.headers["connection"]).toBe("keep-alive")
    expect(replies[0]!.headers["date"]).toMatch(/GMT$/)
    expect(closed).toBe(false)
  })

  it("two requests in one write (pipelined) are answered in order", async () => {
    const { replies } = await talk(port, [post("/one", "1") + post("/two", "22")], (r) => r.length === 2)
    expect(replies.map((r) => JSON.parse(r.body).url)).toStrictEqual(["/one", "/two"])
    expect(replies.map((r) => JSON.parse(r.body).body)).toStrictEqual(["1", "22"])
  })

  it("a body split over many writes, and a head split too", async () => {
    const whole = post("/split", "x".repeat(5_000))
    const parts = Array.from({ length: 10 }, (_, i) => whole.slice(i * (whole.length / 10), (i + 1) * (whole.length / 10)))
    const { replies } = await talk(port, parts, (r) => r.length === 1, 5)
    expect(JSON.parse(replies[0]!.body).body).toBe("x".repeat(5_000))
  })

  it("a chunked body is decoded (with an extension and a trailer)", async () => {
    const head = "POST /chunked HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n"
    const body = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: t\r\n\r\n"
    const { replies, closed } = await talk(port, [head, body], (r) => r.length === 1)
    expect(JSON.parse(replies[0]!.body).body).toBe("hello world")
    expect(closed).toBe(false)
  })

  it("Expect: 100-continue gets 100 Continue before the body is sent", async () => {
    const whole = post("/continue", "abc", "expect: 100-continue\r\n")
    const [head, body] = [whole.slice(0, whole.length - 3), whole.slice(whole.length - 3)]
    const { replies } = await talk(port, [head, body], (r) => r.length === 2, 200)
    expect(replies.map((r) => r.status)).toStrictEqual([100, 200])
  })

  it.each([
    ["Transfer-Encoding with Content-Length (smuggling shape)", "POST /a HTTP/1.1\r\ntransfer-encoding: chunked\r\ncontent-length: 3\r\n\r\nabc", 400],
    ["a transfer coding other than chunked", "POST /a HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n", 501],
    ["conflicting Content-Length values", "POST /a HTTP/1.1\r\ncontent-length: 3\r\ncontent-length: 4\r\n\r\nabc", 400],
    ["a malformed Content-Length", "POST /a HTTP/1.1\r\ncontent-length: 3x\r\n\r\nabc", 400],
    ["a malformed request line", "POST /a\r\nhost: x\r\n\r\n", 400],
    ["HTTP/2 prior knowledge bytes", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 400],
    ["an obsolete folded header", "POST /a HTTP/1.1\r\nx-a: 1\r\n continued\r\ncontent-length: 0\r\n\r\n", 400],
    ["a header name with a space", "POST /a HTTP/1.1\r\nbad name: 1\r\n\r\n", 400],
    ["a malformed chunk size", "POST /a HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", 400],
    ["a head over 16 KiB", `POST /a HTTP/1.1\r\nx-big: ${"a".repeat(17 * 1024)}\r\n\r\n`, 431]
  ])("refuses %s with a Status and closes", async (_, bytes, status) => {
    const { replies, closed } = await talk(port, [bytes], (r, c) => r.length === 1 && c)
    expect(replies[0]!.status).toBe(status)
    expect(replies[0]!.headers["connection"]).toBe("close")
    expect(JSON.parse(replies[0]!.body)).toMatchObject({ kind: "Status", status: "Failure", code: status })
  })

  it("HTTP/1.0 and Connection: close are answered, then closed", async () => {
    const old = await talk(port, ["POST /old HTTP/1.0\r\ncontent-length: 1\r\n\r\nz"], (r, c) => r.length === 1 && c)
    expect(JSON.parse(old.replies[0]!.body).body).toBe("z")
    const close = await talk(port, [post("/close", "q", "connection: close\r\n")], (r, c) => r.length === 1 && c)
    expect(close.replies[0]!.headers["connection"]).toBe("close")
  })

  it("an answer before the whole body arrived closes the connection", async () => {
    const partial = post("/early", "x".repeat(100)).slice(0, -50)
    const { replies, closed } = await talk(port, [partial], (r, c) => r.length === 1 && c)
    expect(replies[0]!.status).toBe(413)
    expect(replies[0]!.headers["connection"]).toBe("close")
    expect(closed).toBe(true)
  })

  it("an answer after the whole body arrived, unread, keeps the connection for the next request", async () => {
    const { replies } = await talk(port, [post("/early", "x".repeat(100)) + post("/next", "n")], (r) => r.length === 2)
    expect(replies.map((r) => r.status)).toStrictEqual([413, 200])
    expect(JSON.parse(replies[1]!.body).body).toBe("n")
  })

  it("a handler that throws is a 500 Status; the server serves on", async () => {
    const { replies } = await talk(port, [post("/throw", "")], (r) => r.length === 1)
    expect(replies[0]!.status).toBe(500)
    expect(replies[0]!.body).not.toContain("handler bug")
    expect(defects.length).toBeGreaterThan(0)
    const again = await talk(port, [post("/after", "ok")], (r) => r.length === 1)
    expect(again.replies[0]!.status).toBe(200)
  })

  it("a head not finished within headersTimeout: 408, closed", async () => {
    const { replies } = await talk(port, ["POST /a HTTP/1.1\r\nhost: x\r\n"], (r, c) => r.length === 1 && c)
    expect(replies[0]!.status).toBe(408)
  })

  it("an idle keep-alive connection is closed after keepAliveTimeout", async () => {
    const started = performance.now()
    const { replies, closed } = await talk(port, [post("/idle", "")], (r, c) => r.length === 1 && c)
    expect(replies[0]!.status).toBe(200)
    expect(closed).toBe(true)
    expect(performance.now() - started).toBeGreaterThan(1_400)
  })
})

describe("Http1Server under mangled bytes", () => {
  it("1,000 byte-mangled requests: each is answered with a known status or closed, nothing throws, the server serves on", async () => {
    const defects: Array<unknown> = []
    const server = new Http1Server(
      { cert: servingPair.certPem, key: servingPair.keyPem },
      { headersTimeoutMs: 1_000, requestTimeoutMs: 2_000, keepAliveTimeoutMs: 1_000, maxHeaderBytes: 16 * 1024 },
      (exchange) => {
        const chunks: Array<Buffer> = []
        exchange.readBody((c) => chunks.push(c), () => exchange.respond(200, {}, String(Buffer.concat(chunks).length)))
      },
      (cause) => defects.push(cause)
    )
    await new Promise<void>((resolve) => server.server.listen(0, "127.0.0.1", resolve))
    const port = (server.server.address() as { port: number }).port
    let seed = 20261128
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648)
    const valid = Buffer.from(post("/m?timeout=1s", '{"a":1}', "expect: 100-continue\r\n") +
      "POST /c HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    const INSERTS = [13, 10, 58, 32, 0, 48, 59] // CR, LF, ':', space, NUL, '0', ';'
    const mangle = (): Buffer => {
      const edits = 1 + Math.floor(random() * 4)
      let out = Buffer.from(valid)
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(random() * out.length)
        const kind = random()
        if (kind < 0.4) out[at] = Math.floor(random() * 256)
        else if (kind < 0.7) out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + Math.floor(random() * 8))])
        else out = Buffer.concat([out.subarray(0, at), Buffer.from([INSERTS[Math.floor(random() * INSERTS.length)]!]), out.subarray(at)])
      }
      return out
    }
    const known = /^HTTP\/1\.1 (100|200|400|408|413|431|501) /
    const seen = new Map<string, number>()
    const one = (bytes: Buffer) =>
      new Promise<void>((resolve, reject) => {
        let raw = ""
        const socket = tls.connect({ host: "127.0.0.1", port, ca: ca.certPem, servername: "localhost" }, () => socket.end(bytes))
        const timer = setTimeout(() => socket.destroy(), 2_500)
        socket.on("data", (c: Buffer) => (raw += c.toString("latin1")))
        socket.on("error", () => {})
        socket.on("close", () => {
          clearTimeout(timer)
          for (const status of raw.split(/(?=HTTP\/1\.1 )/).filter((p) => p.startsWith("HTTP/"))) {
            if (!known.test(status)) return reject(new Error(`unexpected answer ${JSON.stringify(status.slice(0, 40))}`))
            const code = status.slice(9, 12)
            seen.set(code, (seen.get(code) ?? 0) + 1)
          }
          resolve()
        })
      })
    for (let batch = 0; batch < 50; batch++) await Promise.all(Array.from({ length: 20 }, () => one(mangle())))
    expect(defects).toStrictEqual([])
    // The mangling reached both sides: some requests still parse, many are refused.
    expect(seen.get("200") ?? 0).toBeGreaterThan(50)
    expect(seen.get("400") ?? 0).toBeGreaterThan(50)
    const after = await talk(port, [post("/after", "ok")], (r) => r.length === 1)
    expect(after.replies[0]!.status).toBe(200)
    await server.close(1_000)
  }, 60_000)
})

describe("Http1Server.close", () => {
  it("closes idle connections at once, lets a request in work finish (its answer closes), then resolves true", async () => {
    const server = new Http1Server(
      { cert: servingPair.certPem, key: servingPair.keyPem },
      { headersTimeoutMs: 5_000, requestTimeoutMs: 5_000, keepAliveTimeoutMs: 60_000, maxHeaderBytes: 16 * 1024 },
      (exchange) => void setTimeout(() => exchange.respond(200, {}, "done"), exchange.url === "/slow" ? 400 : 0),
      () => {}
    )
    await new Promise<void>((resolve) => server.server.listen(0, "127.0.0.1", resolve))
    const port = (server.server.address() as { port: number }).port
    const idle = talk(port, [post("/fast", "")], (r, c) => r.length === 1 && c)
    await new Promise((r) => setTimeout(r, 200)) // answered; now idle in keep-alive
    const slow = talk(port, [post("/slow", "")], (r, c) => r.length === 1 && c)
    await new Promise((r) => setTimeout(r, 100)) // in work
    const clean = await server.close(3_000)
    expect(clean).toBe(true)
    expect((await idle).closed).toBe(true)
    const answer = await slow
    expect(answer.replies[0]!.body).toBe("done")
    expect(answer.replies[0]!.headers["connection"]).toBe("close")
  })
})

describe("parseHead", () => {
  it("lower-cases names, joins repeated headers, keeps the target as sent", () => {
    const head = parseHead("POST /mutate?timeout=10s HTTP/1.1\r\nX-A: 1\r\nx-a: 2\r\nContent-Length: 5")
    expect(head.method).toBe("POST")
    expect(head.url).toBe("/mutate?timeout=10s")
    expect(head.headers["x-a"]).toBe("1, 2")
    expect(head.length).toBe(5)
    expect(head.keepAlive).toBe(true)
  })
  it("a header named __proto__ is dropped, and the headers object keeps its prototype", () => {
    const head = parseHead("POST / HTTP/1.1\r\n__proto__: x\r\nx-b: 1")
    expect(Object.getPrototypeOf(head.headers)).toBe(Object.prototype)
    expect(Object.keys(head.headers)).toStrictEqual(["x-b"])
  })

  it("trims spaces and tabs around values; a tab inside a value is allowed", () => {
    const head = parseHead("POST / HTTP/1.1\r\nx-a: \t a\tb \t")
    expect(head.headers["x-a"]).toBe("a\tb")
  })
})
