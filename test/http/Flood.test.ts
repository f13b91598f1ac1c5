/** A flood beyond maxInFlight + maxQueue: fast refusals, a healthy server, and normal answers afterwards. */
import { Deferred, Effect } from "effect"
import * as https from "node:https"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { baseConfig, ca, probe, result, reviewBody, send, startServer } from "./support.ts"

describe("flood", () => {
  let server: Awaited<ReturnType<typeof startServer>>
  const gate = Effect.runSync(Deferred.make<void>())
  beforeAll(async () => {
    server = await startServer({
      config: baseConfig({ maxInFlight: 4, maxQueue: 4 }),
      review: (body) => {
        const uid = (body as { request: { uid: string } }).request.uid
        const answer = Effect.succeed(result(uid, "unchanged", { allowed: true }))
        return uid.startsWith("held") ? Effect.andThen(Deferred.await(gate), answer) : answer
      }
    })
  })
  afterAll(() => server.dispose())

  it("holds maxInFlight + maxQueue, refuses the rest at once with 429 + Retry-After, then recovers", async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 64, ca: ca.certPem })
    const flood = Array.from({ length: 40 }, (_, i) => send(server.port, "/mutate", reviewBody(`held-${i}`), { agent }))
    // Wait until every slot and queue place is taken.
    while (server.slots.stats().inFlight + server.slots.stats().queued < 8) await new Promise((r) => setTimeout(r, 10))
    expect(server.slots.stats()).toStrictEqual({ inFlight: 4, queued: 4 })

    // The 32 refused ones come back while the 8 admitted ones are still held (bounded by the test timeout).
    let refused = 0
    for (const p of flood) void p.then((a) => void (a.status === 429 && refused++))
    while (refused < 32) await new Promise((r) => setTimeout(r, 10))
    expect(server.slots.stats()).toStrictEqual({ inFlight: 4, queued: 4 })

    // The process stays healthy meanwhile; the probe port is not behind the gate.
    expect((await probe(server.probePort, "/healthz")).status).toBe(200)
    expect((await probe(server.probePort, "/readyz")).status).toBe(200)
    const refusedNow = await send(server.port, "/mutate", reviewBody("late"), { agent })
    expect(refusedNow.status).toBe(429)
    expect(refusedNow.headers["retry-after"]).toBe("1")
    // Its uid was read before it asked for a slot: the refusal says which review it was.
    expect(refusedNow.json().response).toStrictEqual({
      uid: "late",
      allowed: false,
      status: { code: 429, reason: "TooManyRequests", message: "flyte-pod-webhook is at capacity; retry shortly" }
    })

    Effect.runSync(Deferred.succeed(gate, undefined))
    const answers = await Promise.all(flood)
    const statuses = answers.map((a) => a.status)
    expect(statuses.filter((s) => s === 200)).toHaveLength(8)
    expect(statuses.filter((s) => s === 429)).toHaveLength(32)

    const after = await send(server.port, "/mutate", reviewBody("after"), { agent })
    expect(after.status).toBe(200)
    expect(after.json().response.uid).toBe("after")
    expect(server.slots.stats()).toStrictEqual({ inFlight: 0, queued: 0 })
    const metrics = (await probe(server.probePort, "/metrics")).text.split("\n")
    expect(metrics).toContain(`flyte_pod_webhook_requests_total{outcome="rejected"} 33`)
    agent.destroy()
  })
})
