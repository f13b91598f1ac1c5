/**
 * Tracing: with an OTLP endpoint, each request is a server span (`POST /mutate`, made by @effect/platform-node)
 * continuing the API server's traceparent, with the engine's spans (`Mutator.review`) inside it.
 */
import * as fs from "node:fs"
import * as http from "node:http"
import type * as net from "node:net"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Mutator } from "../../src/admission/Mutator.ts"
import { tracingLayer } from "../../src/http/Tracing.ts"
import { baseConfig, send, startServer } from "./support.ts"

const review = fs.readFileSync(path.resolve(import.meta.dirname, "../../bench/flyte-task-pod-review.json"), "utf8")

describe("tracing", () => {
  const received: Array<any> = []
  const collector = http.createServer((req, res) => {
    let body = ""
    req.on("data", (c) => (body += c))
    req.on("end", () => {
      if (req.url === "/v1/traces") received.push(JSON.parse(body))
      res.writeHead(200, { "content-type": "application/json" }).end("{}")
    })
  })
  let endpoint = ""
  beforeAll(() => new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", () => {
    endpoint = `http://127.0.0.1:${(collector.address() as net.AddressInfo).port}`
    resolve()
  })))
  afterAll(() => new Promise<void>((resolve) => collector.close(() => resolve())))

  it("exports a server span whose parent is the caller's traceparent, with Mutator.review inside", async () => {
    const server = await startServer({
      config: baseConfig({ otlpEndpoint: endpoint }),
      extra: tracingLayer(endpoint),
      mutator: Mutator.layer
    })
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
    const parentId = "00f067aa0ba902b7"
    const answer = await send(server.port, "/mutate?timeout=10s", review, {
      headers: { traceparent: `00-${traceId}-${parentId}-01` }
    })
    expect(answer.status).toBe(200)
    await server.dispose() // flushes the exporter
    // OTLP/JSON export bodies as the fake collector received them: read untyped, field by field
    const spans = received.flatMap((r) => r.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((s: any) => s.spans)))
    const span = spans.find((s: any) => s.name === "POST /mutate")
    expect(span?.traceId).toBe(traceId)
    expect(span?.parentSpanId).toBe(parentId)
    const review_ = spans.find((s: any) => s.name === "Mutator.review")
    expect(review_?.traceId).toBe(traceId)
    expect(review_?.parentSpanId).toBe(span?.spanId)
    const service = received[0].resourceSpans[0].resource.attributes.find((a: any) => a.key === "service.name")
    expect(service.value.stringValue).toBe("flyte-pod-webhook")
  })
})
