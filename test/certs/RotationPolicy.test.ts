/**
 * The rotation decision (pure: contents + time → plan), walked through a CA's life with explicit times.
 * CA 30 days, serving 9 days, propagation grace 1 hour.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type CertMaterial, EmptyMaterial } from "../../src/services/certs/CertMaterial.ts"
import { splitPem } from "../../src/services/certs/Pem.ts"
import { renewMaterial } from "../../src/services/certs/Renewal.ts"
import { planRotation } from "../../src/services/certs/RotationPolicy.ts"
import { DayMs, settings, x509 } from "./fixtures.ts"

const HourMs = 3_600_000
const t0 = new Date("2030-01-01T00:00:00.000Z").getTime()
const config = settings({ caValidityDays: 30, servingValidityDays: 9 })
const at = (ms: number) => new Date(t0 + ms)

const fingerprints = (material: CertMaterial) => splitPem(material.caCrt).map((pem) => x509(pem).fingerprint256)
const servingIssuer = (material: CertMaterial) => {
  const serving = x509(material.tlsCrt)
  return splitPem(material.caCrt).map(x509).find((ca) => serving.verify(ca.publicKey))?.fingerprint256
}
const start = renewMaterial(EmptyMaterial, at(0), config)

describe("planRotation", () => {
  it.effect("an empty Secret gets a CA and a serving certificate signed by it", () =>
    Effect.gen(function*() {
      const plan = planRotation(EmptyMaterial, at(0), config)
      assert.isTrue(plan.newCa)
      assert.strictEqual(plan.serving, "sign-with-new-ca")
      const renewal = yield* start
      assert.strictEqual(fingerprints(renewal.material).length, 1)
      assert.strictEqual(servingIssuer(renewal.material), fingerprints(renewal.material)[0])
    }))

  it.effect("a valid Secret is left as it is", () =>
    Effect.gen(function*() {
      const { material } = yield* start
      const plan = planRotation(material, at(5 * DayMs), config)
      assert.isFalse(plan.changed)
      assert.deepStrictEqual(plan.reasons, [])
    }))

  it.effect("the serving certificate renews at 2/3 of its life, with the same CA", () =>
    Effect.gen(function*() {
      const { material } = yield* start
      const due = x509(material.tlsCrt)
      const renewAt = due.validFromDate.getTime() + (2 / 3) * (due.validToDate.getTime() - due.validFromDate.getTime())
      assert.isFalse(planRotation(material, new Date(renewAt - 60_000), config).changed)
      const renewed = yield* renewMaterial(material, new Date(renewAt), config)
      assert.isTrue(renewed.changed)
      assert.strictEqual(renewed.material.caCrt, material.caCrt)
      assert.strictEqual(renewed.material.caKey, material.caKey)
      assert.notStrictEqual(renewed.material.tlsCrt, material.tlsCrt)
      assert.strictEqual(servingIssuer(renewed.material), fingerprints(material)[0])
    }))

  it.effect("wrong SANs, an expired or key-mismatched serving certificate are renewed with the same CA", () =>
    Effect.gen(function*() {
      const { material } = yield* start
      const sans = yield* renewMaterial(material, at(DayMs), settings({ ...config, extraSANs: ["extra.example.com"] }))
      assert.isTrue(sans.changed)
      assert.include(sans.reasons.join(), "SANs are")
      assert.include(x509(sans.material.tlsCrt).subjectAltName, "DNS:extra.example.com")
      const expired = planRotation(material, at(9 * DayMs + 1), config)
      assert.strictEqual(expired.serving, "sign-with-signer")
      assert.include(expired.reasons.join(), "expired")
      const other = (yield* start).material
      const mismatched = planRotation({ ...material, tlsKey: other.tlsKey }, at(DayMs), config)
      assert.strictEqual(mismatched.serving, "sign-with-signer")
      assert.isFalse(mismatched.newCa)
    }))

  it.effect("CA rotation: new CA in the bundle first, serving moves after the grace, old CA leaves after another", () =>
    Effect.gen(function*() {
      const { material } = yield* start
      const [oldCa] = fingerprints(material)
      const caDue = 20 * DayMs // 2/3 of 30 days (from notBefore, 5 minutes back)
      assert.isFalse(planRotation(material, at(caDue - 10 * 60_000), config).newCa)
      // keep the serving certificate fresh so only the CA drives this walk
      const fresh = (yield* renewMaterial(material, at(caDue - 2 * DayMs), config)).material
      const phase1 = yield* renewMaterial(fresh, at(caDue), config)
      assert.isTrue(phase1.plan.newCa)
      assert.strictEqual(phase1.plan.serving, "keep")
      const bundle1 = fingerprints(phase1.material)
      assert.strictEqual(bundle1.length, 2)
      assert.strictEqual(bundle1[0], oldCa)
      assert.strictEqual(phase1.material.tlsCrt, fresh.tlsCrt) // still signed by the old CA
      assert.notStrictEqual(phase1.material.caKey, fresh.caKey) // ca.key is now the new CA's
      // within the grace: nothing moves
      assert.isFalse(planRotation(phase1.material, at(caDue + HourMs - 60_000), config).changed)
      const phase2 = yield* renewMaterial(phase1.material, at(caDue + HourMs), config)
      assert.strictEqual(phase2.plan.serving, "sign-with-signer")
      assert.strictEqual(servingIssuer(phase2.material), bundle1[1])
      assert.deepStrictEqual(fingerprints(phase2.material), bundle1) // old CA still trusted
      assert.isFalse(planRotation(phase2.material, at(caDue + 2 * HourMs - 60_000), config).changed)
      const phase3 = yield* renewMaterial(phase2.material, at(caDue + 2 * HourMs), config)
      assert.deepStrictEqual(fingerprints(phase3.material), [bundle1[1]])
      assert.include(phase3.reasons.join(), "removed from ca.crt")
      assert.isFalse(planRotation(phase3.material, at(caDue + 3 * HourMs), config).changed)
    }))

  it.effect("a Secret without ca.key (Flyte's) gets a new CA beside the old one; its serving certificate keeps working", () =>
    Effect.gen(function*() {
      const { material } = yield* start
      const flyte = { ...material, caKey: "" }
      const phase1 = yield* renewMaterial(flyte, at(DayMs), config)
      assert.isTrue(phase1.plan.newCa)
      assert.strictEqual(phase1.plan.serving, "keep")
      assert.strictEqual(fingerprints(phase1.material).length, 2)
      assert.include(phase1.reasons.join(), "ca.key is absent")
      const phase2 = planRotation(phase1.material, at(DayMs + HourMs), config)
      assert.strictEqual(phase2.serving, "sign-with-signer")
    }))

  it.effect("unreadable bundle entries are dropped", () =>
    Effect.gen(function*() {
      const { material } = yield* start
      const junk = `${material.caCrt}-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n`
      const plan = planRotation({ ...material, caCrt: junk }, at(DayMs), config)
      assert.isTrue(plan.changed)
      assert.strictEqual(plan.keptCas.length, 1)
      assert.include(plan.reasons.join(), "dropping an entry of ca.crt")
    }))
})
