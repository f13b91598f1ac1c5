/**
 * Request fields in logs and answers are bounded (issue 10, finding 5): a review whose `apiVersion` is 6 MB made
 * a 6 MB log line and a 12 MB answer. Every field a request chooses is cut at 256 characters in a log line (with
 * its full size noted), a message in an answer quotes at most 64 characters of a bad value, and a uid over 256
 * characters is never echoed.
 */
import { Layer, Logger, References } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Mutator } from "../../src/admission/Mutator.ts"
import { send, startServer } from "./support.ts"

const lines: Array<string> = []
const capture = Logger.make((options) => {
  lines.push(JSON.stringify({ message: options.message, annotations: options.fiber.getRef(References.CurrentLogAnnotations) }))
})

describe("bounded fields", () => {
  let server: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    server = await startServer({
      mutator: Mutator.layer,
      extra: Layer.mergeAll(Logger.layer([capture]), Layer.succeed(References.MinimumLogLevel, "Info"))
    })
  })
  afterAll(() => server.dispose())

  it("a 6 MB apiVersion: a short answer and short log lines", async () => {
    const body = JSON.stringify({
      apiVersion: "v".repeat(6_000_000),
      kind: "AdmissionReview",
      request: { uid: "u-big", kind: { kind: "Pod" }, resource: { resource: "pods" }, operation: "CREATE" }
    })
    const answer = await send(server.port, "/mutate", body)
    expect(answer.status).toBe(400)
    expect(answer.text.length).toBeLessThan(2_000)
    expect(answer.json().response.status.message).toContain("...(6000002 characters)")
    const logged = lines.filter((l) => l.includes("u-big"))
    expect(logged.length).toBeGreaterThan(0)
    for (const line of logged) expect(line.length).toBeLessThan(4_000)
  })

  it("a 6 MB uid: not echoed; the refusal is a Status, and the log line is short", async () => {
    const uid = "u".repeat(6_000_000)
    const body = JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid } })
    const before = lines.length
    const answer = await send(server.port, "/mutate", body)
    expect(answer.status).toBe(400)
    expect(answer.text.length).toBeLessThan(2_000)
    expect(answer.json().kind).toBe("Status")
    for (const line of lines.slice(before)) expect(line.length).toBeLessThan(4_000)
  })
})
