/** One real HTTPS (or probe HTTP) round trip per route, with exact JSON. */
import { Effect, Exit, Layer } from "effect"
import * as https from "node:https"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BadReview, Mutator } from "../../src/admission/Mutator.ts"
import { probe, result, reviewBody, send, startServer } from "./support.ts"

const PATCH = Buffer.from(JSON.stringify([{ op: "add", path: "/metadata/labels/x", value: "y" }])).toString("base64")

describe("routes", () => {
  let server: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    server = await startServer({
      review: (body) => {
        const uid = (body as { request?: { uid?: string } }).request?.uid ?? ""
        if (uid === "bad") return Effect.fail(new BadReview({ message: "request.kind is missing", uid: "bad" }))
        if (uid === "denied") {
          return Effect.succeed({
            ...result(uid, "denied", { allowed: false, status: { code: 403, message: "no secret" } }),
            message: "no secret"
          })
        }
        return Effect.succeed(result(uid, "patched", { allowed: true, patchType: "JSONPatch", patch: PATCH }))
      }
    })
  })
  afterAll(() => server.dispose())

  for (const path of ["/mutate--v1-pod", "/mutate"]) {
    it(`POST ${path} answers the Mutator's review`, async () => {
      const answer = await send(server.port, `${path}?timeout=10s`, reviewBody("u-1"))
      expect(answer.status).toBe(200)
      expect(answer.headers["content-type"]).toBe("application/json")
      expect(answer.json()).toStrictEqual({
        apiVersion: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        response: { uid: "u-1", allowed: true, patchType: "JSONPatch", patch: PATCH }
      })
    })
  }

  it("a denial is answered in-band with 200", async () => {
    const answer = await send(server.port, "/mutate", reviewBody("denied"))
    expect(answer.status).toBe(200)
    expect(answer.json()).toStrictEqual({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: "denied", allowed: false, status: { code: 403, message: "no secret" } }
    })
  })

  it("BadReview with a uid is a 400 AdmissionReview", async () => {
    const answer = await send(server.port, "/mutate", reviewBody("bad"))
    expect(answer.status).toBe(400)
    expect(answer.json()).toStrictEqual({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: "bad", allowed: false, status: { code: 400, message: "request.kind is missing" } }
    })
  })

  it("unknown path is a 404 Status", async () => {
    const answer = await send(server.port, "/validate", reviewBody("u"))
    expect(answer.status).toBe(404)
    expect(answer.json()).toStrictEqual({
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "no route /validate; use POST /mutate--v1-pod or /mutate",
      reason: "NotFound",
      code: 404
    })
  })

  it("GET on the mutate path is a 405 with Allow", async () => {
    const answer = await send(server.port, "/mutate", undefined, { method: "GET" })
    expect(answer.status).toBe(405)
    expect(answer.headers["allow"]).toBe("POST")
    expect(answer.json().reason).toBe("MethodNotAllowed")
  })

  it("GET /healthz", async () => {
    const answer = await probe(server.probePort, "/healthz")
    expect(answer.status).toBe(200)
    expect(answer.text).toBe("ok\n")
  })

  it("GET /readyz with every gate open", async () => {
    const answer = await probe(server.probePort, "/readyz")
    expect(answer.status).toBe(200)
    expect(answer.json()).toStrictEqual({ ready: true })
  })

  it("GET /metrics counts the requests above", async () => {
    const answer = await probe(server.probePort, "/metrics")
    expect(answer.status).toBe(200)
    expect(answer.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8")
    const lines = answer.text.split("\n")
    expect(lines).toContain(`flyte_pod_webhook_requests_total{outcome="patched"} 2`)
    expect(lines).toContain(`flyte_pod_webhook_requests_total{outcome="denied"} 1`)
    expect(lines).toContain(`flyte_pod_webhook_requests_total{outcome="invalid"} 1`)
    expect(lines).toContain(`flyte_pod_webhook_injections_total{manager="K8s"} 2`)
    expect(lines).toContain(`flyte_pod_webhook_injection_failures_total{manager="K8s"} 1`)
    expect(lines).toContain(`flyte_pod_webhook_requests_in_flight 0`)
    expect(lines).toContain(`flyte_pod_webhook_request_duration_seconds_count 4`)
    const expiry = lines.find((l) => l.startsWith("flyte_pod_webhook_serving_certificate_expiry_timestamp_seconds "))
    expect(Number(expiry?.split(" ")[1])).toBeGreaterThan(Date.now() / 1000)
  })

  it("unknown probe path is a 404", async () => {
    expect((await probe(server.probePort, "/debug")).status).toBe(404)
  })
})

describe("a Mutator that answers on the spot (reviewNow, as the real one does)", () => {
  let server: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    // No tracing configured: the server must use reviewNow; the effect would kill the request (a 500).
    server = await startServer({
      mutator: Layer.succeed(Mutator, Mutator.of({
        review: () => Effect.die("the effect path was taken"),
        reviewNow: (body) => {
          const uid = (body as { request?: { uid?: string } }).request?.uid ?? ""
          if (uid === "bad") return Exit.fail(new BadReview({ message: "request.kind is missing", uid: "bad" }))
          if (uid === "throws") throw new Error("engine bug")
          return Exit.succeed(result(uid, "patched", { allowed: true, patchType: "JSONPatch", patch: PATCH }))
        }
      }))
    })
  })
  afterAll(() => server.dispose())

  it("answers with reviewNow's result", async () => {
    const answer = await send(server.port, "/mutate?timeout=10s", reviewBody("now-1"))
    expect(answer.status).toBe(200)
    expect(answer.json().response).toStrictEqual({ uid: "now-1", allowed: true, patchType: "JSONPatch", patch: PATCH })
  })

  it("BadReview from reviewNow is a 400 AdmissionReview", async () => {
    const answer = await send(server.port, "/mutate", reviewBody("bad"))
    expect(answer.status).toBe(400)
    expect(answer.json().response).toStrictEqual({ uid: "bad", allowed: false, status: { code: 400, message: "request.kind is missing" } })
  })

  it("a throw in reviewNow is a 500 Status naming no detail, and the server serves on", async () => {
    const answer = await send(server.port, "/mutate", reviewBody("throws"))
    expect(answer.status).toBe(500)
    expect(answer.text).not.toContain("engine bug")
    expect((await send(server.port, "/mutate", reviewBody("now-2"))).status).toBe(200)
  })
})

describe("no deadline outlives its request", () => {
  it("100 answered requests leave no deadline and no timer behind (each would hold its request's closures until the timeout)", async () => {
    const server = await startServer({
      review: (body) => Effect.succeed(result((body as { request: { uid: string } }).request.uid, "patched", { allowed: true }))
    })
    try {
      const agent = new https.Agent({ keepAlive: true, maxSockets: 1 })
      const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length
      await send(server.port, "/mutate", reviewBody("warm"), { agent })
      const before = timers()
      for (let i = 0; i < 100; i++) {
        expect((await send(server.port, "/mutate?timeout=10s", reviewBody(`t-${i}`), { agent })).status).toBe(200)
      }
      expect(timers() - before).toBeLessThan(10)
      expect(server.deadlines.pending).toBe(0)
      agent.destroy()
    } finally {
      await server.dispose()
    }
  })
})
