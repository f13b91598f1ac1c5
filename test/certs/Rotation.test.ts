/**
 * Rotation end to end under the TestClock: CertService.watch keeps the Secret on the fake API server, the test
 * advances time one check interval at a time and records every state the Secret goes through.
 * - Over a week (CA 3 days, serving 1 day): renewals happen at 2/3 of each certificate's life (within one
 *   check), a new CA is in the bundle a full grace before it signs the serving certificate, the old CA stays
 *   until a grace after nothing it signed is served, and every state trusts its neighbours' certificates.
 * - Over the 23 hours before the real now (so every certificate is valid on the real clock): real TLS
 *   handshakes between every serving certificate and every bundle that can still be in use beside it.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Layer, Queue } from "effect"
import { TestClock } from "effect/testing"
import { createPrivateKey } from "node:crypto"
import { KubeClient } from "../../src/kube/KubeClient.ts"
import { CertService, type SecretOutcome } from "../../src/services/CertService.ts"
import type { CertMaterial } from "../../src/services/certs/CertMaterial.ts"
import { splitPem } from "../../src/services/certs/Pem.ts"
import { WebhookConfig } from "../../src/WebhookConfig.ts"
import { DayMs, handshake, x509 } from "./fixtures.ts"

const IntervalMs = 10 * 60_000
const GraceMs = 3_600_000
const BackdateMs = 5 * 60_000

const layer = (caValidityDays: number, servingValidityDays: number) =>
  CertService.layerWith({ checkInterval: IntervalMs, propagationGrace: GraceMs }).pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        KubeClient.layerTest(),
        WebhookConfig.layerTest({ webhook: { caKeySize: 2048, caValidityDays, servingValidityDays } }, { POD_NAMESPACE: "flyte" })
      )
    )
  )

interface State {
  readonly t: number
  readonly material: CertMaterial
}

const cas = (material: CertMaterial) => splitPem(material.caCrt).map(x509)
const trusts = (bundle: CertMaterial, serving: CertMaterial) => {
  const cert = x509(serving.tlsCrt)
  return cas(bundle).some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey))
}
const renewTime = (cert: ReturnType<typeof x509>) =>
  cert.validFromDate.getTime() + (2 / 3) * (cert.validToDate.getTime() - cert.validFromDate.getTime())
const signerOf = (material: CertMaterial) => cas(material).find((ca) => ca.checkPrivateKey(createPrivateKey(material.caKey)))

/**
 * laggingPairs: (older, newer) states that can meet in practice, because a change takes up to one grace to
 * reach everyone: `older` was still current less than a grace before `newer` appeared, so a client (API
 * server) may still hold older's bundle while a replica serves newer's certificate, or the other way round.
 */
const laggingPairs = (states: ReadonlyArray<State>): Array<readonly [State, State]> => {
  const pairs: Array<readonly [State, State]> = []
  for (let i = 0; i < states.length; i++) {
    for (let j = i + 1; j < states.length; j++) {
      const replaced = (states[i + 1] as State).t
      if ((states[j] as State).t - replaced < GraceMs) pairs.push([states[i] as State, states[j] as State])
    }
  }
  return pairs
}

/** simulate runs the watch for `steps` check intervals from `startMs`; returns every distinct state. */
const simulate = (startMs: number, steps: number, onStep: (t: number, material: CertMaterial) => void) =>
  Effect.gen(function*() {
    yield* TestClock.setTime(startMs)
    const certs = yield* CertService
    const outcomes = yield* Queue.unbounded<SecretOutcome>()
    yield* Effect.forkChild(certs.watch((outcome) => Queue.offer(outcomes, outcome).pipe(Effect.asVoid)))
    const states: Array<State> = []
    for (let step = 0; step <= steps; step++) {
      if (step > 0) yield* TestClock.adjust(IntervalMs)
      const outcome = yield* Queue.take(outcomes)
      const t = yield* Clock.currentTimeMillis
      onStep(t, outcome.material)
      const last = states.at(-1)
      if (last === undefined || last.material.caCrt !== outcome.material.caCrt || last.material.tlsCrt !== outcome.material.tlsCrt) {
        states.push({ t, material: outcome.material })
      }
    }
    return states
  })

describe("rotation under the TestClock", () => {
  it.effect("a week with a 3-day CA and 1-day serving certificates: right moments, overlap, never a gap", () =>
    Effect.gen(function*() {
      const start = Date.parse("2030-01-01T00:00:00.000Z")
      const states = yield* simulate(start, (7 * DayMs) / IntervalMs, (t, material) => {
        // at every check, the Secret serves: valid serving certificate, signed by a CA of the bundle
        const serving = x509(material.tlsCrt)
        assert.isTrue(serving.validFromDate.getTime() <= t && t < serving.validToDate.getTime(), `serving valid at ${t}`)
        assert.isTrue(trusts(material, material), `bundle trusts serving at ${t}`)
        assert.isAtMost(cas(material).length, 2)
      })
      for (const [older, newer] of laggingPairs(states)) {
        assert.isTrue(trusts(older.material, newer.material), `bundle of ${older.t} trusts the serving certificate of ${newer.t}`)
        assert.isTrue(trusts(newer.material, older.material), `bundle of ${newer.t} trusts the serving certificate of ${older.t}`)
      }
      let caRotations = 0
      for (let i = 1; i < states.length; i++) {
        const prev = states[i - 1] as State
        const next = states[i] as State
        const prevSigner = signerOf(prev.material)
        const nextSigner = signerOf(next.material)
        assert.isDefined(prevSigner)
        if (nextSigner?.fingerprint256 !== prevSigner?.fingerprint256) {
          caRotations++
          const due = renewTime(prevSigner as ReturnType<typeof x509>)
          assert.isTrue(next.t >= due && next.t < due + IntervalMs, `CA renewed at 2/3 of its life (${next.t} vs ${due})`)
          assert.strictEqual(cas(next.material).length, 2, "new CA added beside the old one")
          continue
        }
        const before = x509(prev.material.tlsCrt)
        const after = x509(next.material.tlsCrt)
        if (before.fingerprint256 === after.fingerprint256) {
          // only the bundle changed: the old CA left, a grace after the serving certificate moved off it
          assert.strictEqual(cas(next.material).length, 1)
          assert.isAtLeast(next.t, after.validFromDate.getTime() + BackdateMs + GraceMs)
          continue
        }
        const signer = nextSigner as ReturnType<typeof x509>
        if (before.verify(signer.publicKey)) {
          const due = renewTime(before)
          assert.isTrue(next.t >= due && next.t < due + IntervalMs, `serving renewed at 2/3 of its life (${next.t} vs ${due})`)
        } else {
          // moved to the new CA: not before the new CA had a full grace in the bundle
          const added = signer.validFromDate.getTime() + BackdateMs
          assert.isTrue(next.t >= added + GraceMs && next.t < added + GraceMs + IntervalMs, `serving moved at ${next.t}`)
        }
      }
      assert.strictEqual(caRotations, 3) // CAs made at day 0, 2, 4, 6
    }).pipe(Effect.provide(layer(3, 1))), 60_000)

  it.effect("the 23 hours up to now: a client holding an old bundle keeps connecting throughout (real TLS)", () =>
    Effect.gen(function*() {
      const realNow = yield* TestClock.withLive(Clock.currentTimeMillis)
      const states = yield* simulate(realNow - 23 * 3_600_000, (23 * 3_600_000) / IntervalMs, () => {})
      assert.isAtLeast(states.length, 4) // created, CA added, serving moved, old CA removed
      const connect = (server: State, client: State) =>
        Effect.promise(() =>
          handshake(
            { cert: server.material.tlsCrt, key: server.material.tlsKey },
            { ca: client.material.caCrt, servername: "flyte-pod-webhook.flyte.svc" }
          )
        )
      for (const [older, newer] of laggingPairs(states)) {
        assert.strictEqual(yield* connect(newer, older), "ok", `client with the bundle of ${older.t} → server of ${newer.t}`)
        assert.strictEqual(yield* connect(older, newer), "ok", `client with the bundle of ${newer.t} → server of ${older.t}`)
      }
      // a client that never got a bundle update is refused once the first CA is gone: the Registrar is needed
      const first = states[0] as State
      const last = states.at(-1) as State
      assert.strictEqual(yield* connect(last, first), "UNABLE_TO_VERIFY_LEAF_SIGNATURE")
    }).pipe(Effect.provide(layer(1, 1))), 60_000)
})
