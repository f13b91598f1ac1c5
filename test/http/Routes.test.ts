/** One real HTTPS (or probe HTTP) round trip per route, with exact JSON. */
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BadReview } from "../../src/admission/Mutator.ts"
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
      response: { uid: "bad", allowed: false, status: { code: 400, reason: "BadRequest", message: "request.kind is missing" } }
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
      message: "no route \"/validate\"; use POST /mutate--v1-pod or /mutate",
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
    // The 400 above and the 404 and 405: every answered request is counted.
    expect(lines).toContain(`flyte_pod_webhook_requests_total{outcome="invalid"} 3`)
    expect(lines).toContain(`flyte_pod_webhook_injections_total{manager="K8s"} 2`)
    expect(lines).toContain(`flyte_pod_webhook_injection_failures_total{manager="K8s"} 1`)
    expect(lines).toContain(`flyte_pod_webhook_requests_in_flight 0`)
    expect(lines).toContain(`flyte_pod_webhook_request_duration_seconds_count 6`)
    expect(lines).toContain(`flyte_pod_webhook_request_body_bytes_held 0`)
    const expiry = lines.find((l) => l.startsWith("flyte_pod_webhook_serving_certificate_expiry_timestamp_seconds "))
    expect(Number(expiry?.split(" ")[1])).toBeGreaterThan(Date.now() / 1000)
  })

  it("unknown probe path is a 404", async () => {
    expect((await probe(server.probePort, "/debug")).status).toBe(404)
  })
})
