/**
 * The issued certificates, checked with Node's own X.509 parser and a few bytes of DER (never node-forge, which
 * wrote them), and with a real TLS handshake.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as crypto from "node:crypto"
import { EmptyMaterial } from "../../src/services/certs/CertMaterial.ts"
import { randomSerial } from "../../src/services/certs/Issuer.ts"
import { renewMaterial } from "../../src/services/certs/Renewal.ts"
import { DayMs, extension, handshake, KeyUsage, keyUsageBits, settings, x509 } from "./fixtures.ts"

const now = new Date("2031-05-01T12:00:00.000Z")
const config = settings({ extraSANs: ["webhook.example.com", "10.1.2.3"], caValidityDays: 100, servingValidityDays: 30 })
const issue = renewMaterial(EmptyMaterial, now, config).pipe(Effect.map((renewal) => renewal.material))

describe("issued certificates", () => {
  it.effect("CA: self-signed, CA:TRUE critical, keyCertSign+cRLSign critical, SKI = AKI, 128-bit positive serial, validity as configured", () =>
    Effect.gen(function*() {
      const material = yield* issue
      const ca = x509(material.caCrt)
      assert.isTrue(ca.ca)
      assert.strictEqual(ca.subject, ca.issuer)
      assert.isTrue(ca.verify(ca.publicKey))
      assert.isTrue(extension(ca, 19)?.critical) // basicConstraints
      assert.isTrue(extension(ca, 15)?.critical) // keyUsage
      assert.strictEqual(keyUsageBits(ca), KeyUsage.keyCertSign | KeyUsage.cRLSign)
      const ski = extension(ca, 14)?.value.toString("hex") // OCTET STRING(keyid)
      const aki = extension(ca, 35)?.value.toString("hex") // SEQUENCE { [0] keyid }
      assert.isDefined(ski)
      assert.include(aki, (ski ?? "x").slice(4))
      assert.match(ca.serialNumber, /^[0-9A-F]{31,34}$/)
      assert.strictEqual(ca.validToDate.getTime(), now.getTime() + 100 * DayMs)
      assert.strictEqual(ca.validFromDate.getTime(), now.getTime() - 5 * 60_000)
      assert.strictEqual(ca.publicKey.asymmetricKeyDetails?.modulusLength, 2048)
      assert.isTrue(ca.checkPrivateKey(crypto.createPrivateKey(material.caKey)))
    }))

  it.effect("serving: signed by the CA, SANs, serverAuth, digitalSignature+keyEncipherment, not a CA, validity as configured", () =>
    Effect.gen(function*() {
      const material = yield* issue
      const ca = x509(material.caCrt)
      const serving = x509(material.tlsCrt)
      assert.isTrue(serving.verify(ca.publicKey))
      assert.isTrue(serving.checkIssued(ca))
      assert.isFalse(serving.ca)
      assert.strictEqual(
        serving.subjectAltName,
        "DNS:flyte-pod-webhook, DNS:flyte-pod-webhook.flyte, DNS:flyte-pod-webhook.flyte.svc, DNS:webhook.example.com, IP Address:10.1.2.3"
      )
      assert.strictEqual(serving.checkHost("flyte-pod-webhook.flyte.svc"), "flyte-pod-webhook.flyte.svc")
      assert.strictEqual(serving.checkIP("10.1.2.3"), "10.1.2.3")
      assert.deepStrictEqual(serving.keyUsage, ["1.3.6.1.5.5.7.3.1"]) // extended key usage: serverAuth only
      assert.strictEqual(keyUsageBits(serving), KeyUsage.digitalSignature | KeyUsage.keyEncipherment)
      assert.isTrue(extension(serving, 15)?.critical)
      assert.strictEqual(serving.validToDate.getTime(), now.getTime() + 30 * DayMs)
      assert.isTrue(serving.checkPrivateKey(crypto.createPrivateKey(material.tlsKey)))
      assert.strictEqual(serving.subject, "CN=flyte-pod-webhook.flyte.svc")
    }))

  it.effect("key sizes come from config (webhook.caKeySize)", () =>
    Effect.gen(function*() {
      const renewal = yield* renewMaterial(EmptyMaterial, now, settings({ caKeySize: 3072 }))
      assert.strictEqual(x509(renewal.material.caCrt).publicKey.asymmetricKeyDetails?.modulusLength, 3072)
      assert.strictEqual(x509(renewal.material.tlsCrt).publicKey.asymmetricKeyDetails?.modulusLength, 2048)
    }))

  it("a serving certificate never outlives its CA", () =>
    Effect.runPromise(Effect.gen(function*() {
      const renewal = yield* renewMaterial(EmptyMaterial, now, settings({ caValidityDays: 10, servingValidityDays: 365 }))
      assert.strictEqual(
        x509(renewal.material.tlsCrt).validToDate.getTime(),
        x509(renewal.material.caCrt).validToDate.getTime()
      )
    })))

  it("serials are positive DER integers of 128 random bits", () => {
    for (let i = 0; i < 200; i++) {
      const hex = randomSerial()
      assert.isTrue(hex.length === 32 || (hex.length === 34 && hex.startsWith("00")))
      const first = parseInt(hex.slice(0, 2), 16)
      assert.isTrue(hex.length === 34 ? parseInt(hex.slice(2, 4), 16) >= 0x80 : first > 0 && first < 0x80)
    }
  })
})

describe("TLS handshake with the issued certificates", () => {
  it.live("a client trusting only ca.crt connects with servername <svc>.<ns>.svc; another CA, or another name, fails", () =>
    Effect.gen(function*() {
      // validity must hold on the real clock here: issue now
      const material = (yield* renewMaterial(EmptyMaterial, new Date(), settings())).material
      const other = (yield* renewMaterial(EmptyMaterial, new Date(), settings())).material
      const server = { cert: material.tlsCrt, key: material.tlsKey }
      const ok = yield* Effect.promise(() => handshake(server, { ca: material.caCrt, servername: "flyte-pod-webhook.flyte.svc" }))
      assert.strictEqual(ok, "ok")
      const wrongCa = yield* Effect.promise(() => handshake(server, { ca: other.caCrt, servername: "flyte-pod-webhook.flyte.svc" }))
      assert.strictEqual(wrongCa, "UNABLE_TO_VERIFY_LEAF_SIGNATURE")
      const wrongName = yield* Effect.promise(() => handshake(server, { ca: material.caCrt, servername: "other.flyte.svc" }))
      assert.strictEqual(wrongName, "ERR_TLS_CERT_ALTNAME_INVALID")
    }))
})
