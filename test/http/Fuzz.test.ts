/**
 * Fuzz: 10,000+ random and mutated bodies against the live server with the real engine. No crash, every answer
 * 2xx or 4xx with a well-formed JSON body (an AdmissionReview carrying the uid, or a Status), memory bounded.
 */
import fc from "fast-check"
import * as fs from "node:fs"
import * as https from "node:https"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Mutator } from "../../src/admission/Mutator.ts"
import { baseConfig, ca, probe, send, startServer } from "./support.ts"

const root = path.resolve(import.meta.dirname, "../..")
const fixture = JSON.parse(fs.readFileSync(path.join(root, "bench/flyte-task-pod-review.json"), "utf8"))
const TOTAL = 10_000

/** A path into the fixture, for deleting or replacing a value. */
const paths = (value: unknown, prefix: Array<string | number> = [], out: Array<Array<string | number>> = []) => {
  out.push(prefix)
  if (typeof value === "object" && value !== null) {
    for (const [k, v] of Object.entries(value)) paths(v, [...prefix, Array.isArray(value) ? Number(k) : k], out)
  }
  return out
}
const fixturePaths = paths(fixture).filter((p) => p.length > 0)

const mutate = (op: number, at: number, replacement: unknown, annotation: string): unknown => {
  const copy = structuredClone(fixture)
  copy.request.uid = `fuzz-${at}-${op}`
  const where = fixturePaths[at % fixturePaths.length]!
  // walks a random path through a random JSON value: deliberately untyped
  const parent = where.slice(0, -1).reduce((o: any, k) => o?.[k], copy)
  const key = where[where.length - 1]!
  if (parent === undefined || parent === null || typeof parent !== "object") return copy
  if (op === 0) delete parent[key]
  else if (op === 1) parent[key] = replacement
  else copy.request.object.metadata.annotations[`flyte.secrets/s${at % 20}`] = annotation
  return copy
}

const base32ish = fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz123456".split("")), maxLength: 120 })
const bodies = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(fc.nat(2), fc.nat(), fc.jsonValue({ maxDepth: 3 }), fc.oneof(base32ish, fc.string()))
    .map(([op, at, r, a]) => JSON.stringify(mutate(op, at, r, a))) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.tuple(fc.nat(3800)).map(([n]) => JSON.stringify(fixture).slice(0, n)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b).toString("latin1")) },
  { weight: 1, arbitrary: fc.record({ apiVersion: fc.constantFrom("admission.k8s.io/v1", "admission.k8s.io/v1beta1", "x"),
    kind: fc.constant("AdmissionReview"), request: fc.record({ uid: fc.string(), object: fc.jsonValue({ maxDepth: 3 }) },
      { requiredKeys: [] }) }).map((v) => JSON.stringify(v)) }
)

const wellFormed = (status: number, text: string): string | undefined => {
  if (!((status >= 200 && status < 300) || (status >= 400 && status < 500))) return `status ${status}`
  let body: any // a fuzzed body of any JSON shape, deliberately untyped
  try {
    body = JSON.parse(text)
  } catch {
    return `not JSON: ${text.slice(0, 80)}`
  }
  if (body?.kind === "AdmissionReview") {
    const r = body.response
    if (typeof r?.uid !== "string" || typeof r?.allowed !== "boolean") return `bad review ${text.slice(0, 120)}`
    if (r.patch !== undefined && r.patchType !== "JSONPatch") return "patch without patchType"
    return undefined
  }
  if (body?.kind === "Status" && body.code === status && typeof body.message === "string") return undefined
  return `unexpected body ${text.slice(0, 120)}`
}

describe("fuzz", () => {
  let server: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    server = await startServer({
      mutator: Mutator.layer,
      config: { ...baseConfig({ maxInFlight: 64, maxQueue: 256 }), secrets: { "secrets-prefix": path.join(root, "deploy/examples/global-secrets") } }
    })
  })
  afterAll(() => server.dispose())

  it(`${TOTAL} random and mutated bodies: only 2xx/4xx, well-formed, memory bounded`, async () => {
    const samples = fc.sample(bodies, { numRuns: TOTAL, seed: 20261128 })
    const agent = new https.Agent({ keepAlive: true, maxSockets: 16, ca: ca.certPem })
    const problems: Array<string> = []
    const statuses = new Map<number, number>()
    const rssBefore = process.memoryUsage().rss
    let next = 0
    const worker = async () => {
      while (next < samples.length) {
        const body = samples[next++]!
        const answer = await send(server.port, "/mutate?timeout=10s", body, { agent })
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1)
        const problem = wellFormed(answer.status, answer.text)
        if (problem !== undefined && problems.length < 10) problems.push(`${problem} <- ${body.slice(0, 100)}`)
      }
    }
    await Promise.all(Array.from({ length: 16 }, worker))
    agent.destroy()
    expect(problems).toStrictEqual([])
    expect([...statuses.values()].reduce((a, b) => a + b, 0)).toBe(TOTAL)
    expect(statuses.get(200)).toBeGreaterThan(TOTAL / 3) // the mutated reviews mostly get real answers
    expect(statuses.get(400)).toBeGreaterThan(0)
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(512 * 1024 * 1024)
    expect(server.slots.stats()).toStrictEqual({ inFlight: 0, queued: 0 })
    expect((await probe(server.probePort, "/healthz")).status).toBe(200)
    expect((await send(server.port, "/mutate", JSON.stringify(fixture))).json().response.allowed).toBe(true)
  }, 60_000)
})
