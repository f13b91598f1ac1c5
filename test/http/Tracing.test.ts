/** Tracing: with an OTLP endpoint, each review is a server span continuing the API server's traceparent. */
import { Effect } from "effect"
import * as http from "node:http"
import type * as net from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { tracingLayer } from "../../src/http/Tracing.ts"
import { baseConfig, result, reviewBody, send, startServer } from "./support.ts"

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

  it("exports a server span whose parent is the caller's traceparent", async () => {
    const server = await startServer({
      config: baseConfig({ otlpEndpoint: endpoint }),
      extra: tracingLayer(endpoint),
      review: (body) => Effect.succeed(result((body as { request: { uid: string } }).request.uid, "unchanged", { allowed: true }))
    })
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736"
    const parentId = "00f067aa0ba902b7"
    const answer = await send(server.port, "/mutate", reviewBody("traced"), {
      headers: { traceparent: `00-${traceId}-${parentId}-01` }
    })
    expect(answer.status).toBe(200)
    await server.dispose() // flushes the exporter
    // OTLP/JSON export bodies as the fake collector received them: read untyped, field by field
    const spans = received.flatMap((r) => r.resourceSpans.flatMap((rs: any) => rs.scopeSpans.flatMap((s: any) => s.spans)))
    const span = spans.find((s: any) => s.name === "admission.review")
    expect(span?.traceId).toBe(traceId)
    expect(span?.parentSpanId).toBe(parentId)
    const service = received[0].resourceSpans[0].resource.attributes.find((a: any) => a.key === "service.name")
    expect(service.value.stringValue).toBe("flyte-pod-webhook")
  })
})
