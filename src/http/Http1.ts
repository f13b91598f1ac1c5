/**
 * Http1: the admission listener's HTTP/1.1 server: a small, strict request reader over `node:tls`, in place of
 * `node:http`. Measured on the benchmark's machine (docs/serve.md, "Why not node:http"): a bare `node:https`
 * server spends a large part of each admission request in Node's HTTP machinery (IncomingMessage and
 * ServerResponse streams, events, ticks); `npm run bench` runs the same work on this reader, last at 43
 * against 57 µs of CPU per request. The webhook's only
 * client is the API server (Go's net/http: HTTP/1.1, `Content-Length`, keep-alive, no pipelining), so little
 * of HTTP is needed, and what is not needed is refused rather than half-supported:
 *
 * - request line `METHOD target HTTP/1.1` (or 1.0, answered then closed); header names are tokens, values
 *   without control characters, no obsolete line folding; the head within `maxHeaderBytes` (16 KiB, Node's
 *   default; else 431);
 * - a body by `Content-Length` (one value; duplicates must agree) or `Transfer-Encoding: chunked` (both at once:
 *   400, the request-smuggling shape; any other coding: 501); `Expect: 100-continue` is answered when the
 *   handler starts reading;
 * - one request at a time per connection: bytes of a next (pipelined) request wait until the answer is written;
 *   a body the handler does not read, a client's `Connection: close`, HTTP/1.0, an answer with
 *   `connection: close` or a server that is closing all end the connection after the answer;
 * - timeouts checked by one sweep a second for all connections: the head within `headersTimeoutMs` and the
 *   whole request within `requestTimeoutMs` (else 408 and close), idle keep-alive `keepAliveTimeoutMs`;
 *   the TLS handshake within 10 s.
 * A request the reader refuses is answered with a Kubernetes `Status` and the connection closed.
 */
import * as http from "node:http"
import type * as net from "node:net"
import * as tls from "node:tls"
import { sendError } from "./Responses.ts"

/** Header names in lower case; a repeated header's values joined with ", ". */
export type RequestHeaders = Readonly<Record<string, string | undefined>>
export type ResponseHeaders = Readonly<Record<string, string | number | undefined>>

/** Exchange: one request and its answer, as the handler sees it. */
export interface Exchange {
  readonly method: string
  readonly url: string
  readonly headers: RequestHeaders
  /**
   * readBody delivers the body: each chunk as it arrives, then `onEnd`. Call it once; chunks that arrived
   * before are delivered at once, and the connection reads no further until it is called.
   */
  readBody(onChunk: (chunk: Buffer) => void, onEnd: () => void): void
  /** respond writes the whole answer (`content-length` is added); later calls do nothing. */
  respond(status: number, headers: ResponseHeaders, body: string): void
  /** onGone: the connection closed before an answer was written. */
  onGone(callback: () => void): void
}

export interface Http1Limits {
  readonly headersTimeoutMs: number
  readonly requestTimeoutMs: number
  readonly keepAliveTimeoutMs: number
  readonly maxHeaderBytes: number
}

const REQUEST_LINE = /^([A-Z]+) (\S+) HTTP\/1\.([01])$/
const HEAD_END = Buffer.from("\r\n\r\n")
const CONTINUE = "HTTP/1.1 100 Continue\r\n\r\n"

class RequestError extends Error {
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

interface Head {
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string>
  readonly keepAlive: boolean
  readonly length: number | "chunked"
}

/** hasToken: a comma-separated header value contains `token` (case-insensitive). */
const hasToken = (value: string | undefined, token: string): boolean =>
  value !== undefined && value.toLowerCase().split(",").some((t) => t.trim() === token)

/** TOKEN_CHAR[c]: 1 when the character code c may appear in a header name (RFC 9110 token). */
const TOKEN_CHAR = new Uint8Array(128)
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN_CHAR[c.charCodeAt(0)] = 1

/** isToken: a non-empty header name of token characters only. */
const isToken = (text: string, from: number, to: number): boolean => {
  if (to <= from) return false
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i)
    if (c >= 128 || TOKEN_CHAR[c] === 0) return false
  }
  return true
}

/** hasControl: a control character other than tab (a header value must not carry one). */
const hasControl = (text: string, from: number, to: number): boolean => {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i)
    if ((c < 32 && c !== 9) || c === 127) return true
  }
  return false
}

/**
 * parseHead reads the request line and headers (the bytes before the blank line, as latin1). Scanned by hand:
 * it runs for every request. A header named `__proto__` is dropped (it names no HTTP header and must not reach
 * a plain object's prototype).
 */
export const parseHead = (text: string): Head => {
  const firstEnd = text.indexOf("\r\n")
  const line = REQUEST_LINE.exec(firstEnd < 0 ? text : text.slice(0, firstEnd))
  if (line === null) throw new RequestError(400, "malformed request line")
  const headers: Record<string, string> = {}
  let start = firstEnd < 0 ? text.length : firstEnd + 2
  while (start < text.length) {
    let end = text.indexOf("\r\n", start)
    if (end < 0) end = text.length
    const colon = text.indexOf(":", start)
    if (colon < 0 || colon >= end) throw new RequestError(400, "malformed header line")
    if (!isToken(text, start, colon)) throw new RequestError(400, "malformed header name")
    let from = colon + 1
    let to = end
    while (from < to && (text.charCodeAt(from) === 32 || text.charCodeAt(from) === 9)) from++
    while (to > from && (text.charCodeAt(to - 1) === 32 || text.charCodeAt(to - 1) === 9)) to--
    if (hasControl(text, from, to)) throw new RequestError(400, `control character in header ${text.slice(start, colon)}`)
    const key = text.slice(start, colon).toLowerCase()
    const value = text.slice(from, to)
    start = end + 2
    if (key === "__proto__") continue
    const seen = headers[key]
    if (seen === undefined) headers[key] = value
    else if (key === "content-length") {
      if (seen !== value) throw new RequestError(400, "conflicting Content-Length headers")
    } else headers[key] = `${seen}, ${value}`
  }
  const coding = headers["transfer-encoding"]
  const declared = headers["content-length"]
  let length: number | "chunked" = 0
  if (coding !== undefined) {
    if (declared !== undefined) throw new RequestError(400, "both Transfer-Encoding and Content-Length")
    if (coding.toLowerCase() !== "chunked") throw new RequestError(501, `transfer coding ${coding} is not supported`)
    length = "chunked"
  } else if (declared !== undefined) {
    if (!/^\d{1,15}$/.test(declared)) throw new RequestError(400, "malformed Content-Length")
    length = Number(declared)
  }
  const keepAlive = line[3] === "1" && !hasToken(headers["connection"], "close")
  return { method: line[1]!, url: line[2]!, headers, keepAlive, length }
}

/** ChunkedDecoder: `Transfer-Encoding: chunked` bytes in, data out; trailers are read and dropped. */
class ChunkedDecoder {
  private raw: Buffer = Buffer.alloc(0)
  private state: "size" | "data" | "crlf" | "trailer" | "done" = "size"
  private left = 0
  private trailerBytes = 0

  get done(): boolean {
    return this.state === "done"
  }

  /** feed takes bytes; returns the data decoded and, once the body is complete, the bytes after it. */
  feed(bytes: Buffer): { readonly data: Array<Buffer>; readonly rest: Buffer | undefined } {
    this.raw = this.raw.length === 0 ? bytes : Buffer.concat([this.raw, bytes])
    const data: Array<Buffer> = []
    for (;;) {
      if (this.state === "data") {
        const n = Math.min(this.left, this.raw.length)
        if (n === 0) break
        data.push(this.raw.subarray(0, n))
        this.raw = this.raw.subarray(n)
        this.left -= n
        if (this.left === 0) this.state = "crlf"
        continue
      }
      if (this.state === "crlf") {
        if (this.raw.length < 2) break
        if (this.raw[0] !== 13 || this.raw[1] !== 10) throw new RequestError(400, "malformed chunked body")
        this.raw = this.raw.subarray(2)
        this.state = "size"
        continue
      }
      if (this.state === "done") break
      const eol = this.raw.indexOf("\r\n")
      if (eol < 0) {
        if (this.raw.length > 4096) throw new RequestError(400, "malformed chunked body")
        break
      }
      const line = this.raw.toString("latin1", 0, eol)
      this.raw = this.raw.subarray(eol + 2)
      if (this.state === "trailer") {
        this.trailerBytes += eol + 2
        if (this.trailerBytes > 16 * 1024) throw new RequestError(431, "chunked trailers too large")
        if (line === "") this.state = "done"
        continue
      }
      const size = line.split(";", 1)[0]!.trim()
      if (!/^[0-9a-fA-F]{1,8}$/.test(size)) throw new RequestError(400, "malformed chunk size")
      this.left = parseInt(size, 16)
      this.state = this.left === 0 ? "trailer" : "data"
    }
    return { data, rest: this.state === "done" ? this.raw : undefined }
  }
}

let dateText = ""
let dateSecond = -1
const httpDate = (): string => {
  const second = Math.floor(Date.now() / 1000)
  if (second !== dateSecond) {
    dateSecond = second
    dateText = new Date(second * 1000).toUTCString()
  }
  return dateText
}

/** Connection: one TLS connection's request loop. */
class Connection implements Exchange {
  method = ""
  url = ""
  headers: RequestHeaders = {}
  /** idle: between requests; head: reading one; body: reading its body; answer: read, awaiting the answer. */
  phase: "idle" | "head" | "body" | "answer" | "closed" = "idle"
  since = performance.now()
  private buffered: Buffer | undefined
  private keepAlive = true
  private answered = true
  private remaining = 0
  private chunked: ChunkedDecoder | undefined
  private pending: Array<Buffer> = []
  private bodyEnded = false
  private expectContinue = false
  private onChunk: ((chunk: Buffer) => void) | undefined
  private onEnd: (() => void) | undefined
  private gone: Array<() => void> = []
  private readonly socket: tls.TLSSocket
  private readonly owner: Http1Server

  constructor(socket: tls.TLSSocket, owner: Http1Server) {
    this.socket = socket
    this.owner = owner
    socket.setNoDelay(true)
    socket.on("data", (chunk: Buffer) => this.onData(chunk))
    socket.on("error", () => socket.destroy())
    socket.on("close", () => this.onClose())
  }

  private onData(chunk: Buffer): void {
    if (this.phase === "closed") return
    if (this.phase === "body") return this.bodyBytes(chunk)
    this.buffered = this.buffered === undefined ? chunk : Buffer.concat([this.buffered, chunk])
    // A next request sent before this one's answer waits, and the connection reads no further meanwhile.
    if (this.phase === "answer") return void this.socket.pause()
    if (this.phase === "idle") {
      this.phase = "head"
      this.since = performance.now()
    }
    if (this.phase === "head") this.readHead()
  }

  /** readHead parses a complete head from the buffered bytes and hands the request on. */
  private readHead(): void {
    const buffered = this.buffered!
    const end = buffered.indexOf(HEAD_END)
    if (end < 0) {
      if (buffered.length > this.owner.limits.maxHeaderBytes) this.refuse(431, "request header fields too large")
      return
    }
    if (end > this.owner.limits.maxHeaderBytes) return this.refuse(431, "request header fields too large")
    let head: Head
    try {
      head = parseHead(buffered.toString("latin1", 0, end))
    } catch (cause) {
      const e = cause instanceof RequestError ? cause : new RequestError(400, "malformed request")
      return this.refuse(e.status, e.message)
    }
    this.method = head.method
    this.url = head.url
    this.headers = head.headers
    this.keepAlive = head.keepAlive
    this.answered = false
    this.pending = []
    this.onChunk = undefined
    this.onEnd = undefined
    this.gone = []
    this.expectContinue = hasToken(head.headers["expect"], "100-continue")
    const rest = buffered.subarray(end + HEAD_END.length)
    this.buffered = undefined
    if (head.length === "chunked") {
      this.chunked = new ChunkedDecoder()
      this.bodyEnded = false
    } else {
      this.chunked = undefined
      this.remaining = head.length
      this.bodyEnded = head.length === 0
    }
    this.phase = this.bodyEnded ? "answer" : "body"
    if (rest.length > 0) {
      if (this.bodyEnded) this.buffered = rest
      else this.bodyBytes(rest)
    }
    if ((this.phase as Connection["phase"]) === "closed") return // refused while reading the body
    this.owner.dispatch(this)
  }

  /** bodyBytes takes bytes while the body is being read; bytes past its end wait for the next request. */
  private bodyBytes(bytes: Buffer): void {
    let data: Array<Buffer>
    let rest: Buffer | undefined
    if (this.chunked !== undefined) {
      try {
        ;({ data, rest } = this.chunked.feed(bytes))
      } catch (cause) {
        const e = cause instanceof RequestError ? cause : new RequestError(400, "malformed chunked body")
        return this.refuse(e.status, e.message)
      }
    } else {
      const n = Math.min(this.remaining, bytes.length)
      data = n === 0 ? [] : [n === bytes.length ? bytes : bytes.subarray(0, n)]
      this.remaining -= n
      rest = this.remaining === 0 ? bytes.subarray(n) : undefined
    }
    for (const chunk of data) {
      if (this.onChunk !== undefined) this.onChunk(chunk)
      else this.pending.push(chunk)
    }
    if (rest === undefined) {
      // Nobody reads yet: hold what came and read no further (TCP pushes back on the client).
      if (this.onChunk === undefined && this.pending.length > 0) this.socket.pause()
      return
    }
    this.bodyEnded = true
    if (this.phase === "body") this.phase = "answer"
    if (rest.length > 0) this.buffered = rest
    if (this.onEnd !== undefined) this.onEnd()
  }

  readBody(onChunk: (chunk: Buffer) => void, onEnd: () => void): void {
    if (this.onChunk !== undefined || this.answered) return
    this.onChunk = onChunk
    this.onEnd = onEnd
    if (this.expectContinue && !this.bodyEnded && this.pending.length === 0) this.socket.write(CONTINUE)
    const pending = this.pending
    this.pending = []
    for (const chunk of pending) onChunk(chunk)
    if (this.bodyEnded) return onEnd()
    this.socket.resume()
  }

  onGone(callback: () => void): void {
    if (this.phase === "closed") return callback()
    this.gone.push(callback)
  }

  respond(status: number, headers: ResponseHeaders, body: string): void {
    if (this.answered || this.phase === "closed") return
    this.answered = true
    const close = !this.keepAlive || !this.bodyEnded || this.owner.closing ||
      String(headers["connection"] ?? "").toLowerCase() === "close"
    let head = `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? "Unknown"}\r\n`
    for (const name in headers) {
      const value = headers[name]
      if (value === undefined || name === "content-length" || name === "connection") continue
      head += `${name}: ${value}\r\n`
    }
    head += `content-length: ${Buffer.byteLength(body)}\r\ndate: ${httpDate()}\r\n`
    head += close ? "connection: close\r\n\r\n" : this.owner.keepAliveFields
    this.socket.write(head + body)
    if (close) {
      this.phase = "closed"
      // Write the answer, then close (a paused socket left half-open would linger until a timeout).
      this.socket.resume()
      this.socket.destroySoon()
      return
    }
    this.phase = "idle"
    this.since = performance.now()
    // The answered request's callbacks and unread chunks are not kept while the connection idles.
    this.gone = []
    this.onChunk = undefined
    this.onEnd = undefined
    this.pending = []
    this.socket.resume()
    // A next request that came with the last one's bytes (pipelined) is read now.
    if (this.buffered !== undefined) {
      const buffered = this.buffered
      this.buffered = undefined
      setImmediate(() => this.onData(buffered))
    }
  }

  /** refuse answers a request the reader cannot take, with a Status, and closes the connection. */
  refuse(status: number, message: string): void {
    if (this.phase === "closed" || (this.answered && this.phase !== "head")) return
    this.answered = false
    this.keepAlive = false
    sendError(this, status, http.STATUS_CODES[status] ?? "Error", message)
  }

  /** destroy cuts the connection now. */
  destroy(): void {
    this.socket.destroy()
  }

  private onClose(): void {
    const wasAnswered = this.answered
    this.phase = "closed"
    this.owner.forget(this)
    if (wasAnswered) return
    this.answered = true
    for (const callback of this.gone) callback()
  }
}

/** Http1Server: a TLS listener speaking the HTTP/1.1 subset above. */
export class Http1Server {
  readonly server: tls.Server
  readonly limits: Http1Limits
  /** Once set, every answer closes its connection. */
  closing = false
  /** The end of a head that keeps the connection (with the idle timeout, as Node says it). */
  readonly keepAliveFields: string
  private readonly connections = new Set<Connection>()
  private readonly handler: (exchange: Exchange) => void
  private readonly onDefect: (cause: unknown) => void
  private readonly sweeper: NodeJS.Timeout

  constructor(
    options: tls.TlsOptions,
    limits: Http1Limits,
    handler: (exchange: Exchange) => void,
    onDefect: (cause: unknown) => void
  ) {
    this.limits = limits
    this.keepAliveFields = `connection: keep-alive\r\nkeep-alive: timeout=${Math.floor(limits.keepAliveTimeoutMs / 1000)}\r\n\r\n`
    this.handler = handler
    this.onDefect = onDefect
    // No Nagle on the TCP socket under TLS: a small answer held back until the client's delayed ACK of the
    // previous one arrives costs tens of milliseconds (setNoDelay on the TLS socket does not reach it).
    this.server = tls.createServer({ ...options, handshakeTimeout: 10_000, noDelay: true }, (socket) => {
      this.connections.add(new Connection(socket, this))
    })
    this.server.on("connection", (raw: net.Socket) => raw.setNoDelay(true))
    // A failed handshake (scanner, wrong CA, plain HTTP) concerns that client only.
    this.server.on("tlsClientError", () => {})
    this.sweeper = setInterval(() => this.sweep(), 1_000)
    this.sweeper.unref()
  }

  /** dispatch hands a request to the handler; a throw is a 500, never a crash. */
  dispatch(exchange: Connection): void {
    try {
      this.handler(exchange)
    } catch (cause) {
      this.onDefect(cause)
      sendError(exchange, 500, "InternalError", "internal error in flyte-pod-webhook; see its log")
    }
  }

  forget(connection: Connection): void {
    this.connections.delete(connection)
    if (this.connections.size === 0) this.drained?.()
  }

  private sweep(): void {
    const now = performance.now()
    for (const c of this.connections) {
      const age = now - c.since
      if (c.phase === "idle" && age > this.limits.keepAliveTimeoutMs) c.destroy()
      else if (c.phase === "head" && age > this.limits.headersTimeoutMs) c.refuse(408, "request headers not received in time")
      else if ((c.phase === "body" || c.phase === "answer") && age > this.limits.requestTimeoutMs) {
        c.refuse(408, "request not completed in time")
      }
    }
  }

  /** The connections open now, by phase (tests and shutdown). */
  get openConnections(): number {
    return this.connections.size
  }

  private drained: (() => void) | undefined

  /**
   * close stops accepting, closes idle connections and waits up to `timeoutMs` for the others to finish their
   * request (each answer then closes its connection); then cuts what is left. True when nothing had to be cut.
   */
  close(timeoutMs: number): Promise<boolean> {
    this.closing = true
    this.server.close()
    for (const c of this.connections) if (c.phase === "idle") c.destroy()
    return new Promise<boolean>((resolve) => {
      const finish = (clean: boolean) => {
        clearTimeout(timer)
        clearInterval(this.sweeper)
        this.drained = undefined
        resolve(clean)
      }
      const timer = setTimeout(() => {
        for (const c of this.connections) c.destroy()
        finish(false)
      }, timeoutMs)
      this.drained = () => finish(true)
      if (this.connections.size === 0) finish(true)
    })
  }
}
