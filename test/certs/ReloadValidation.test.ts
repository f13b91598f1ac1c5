/**
 * Certificate reload validation (issue 10, finding 3): a new serving pair is taken only when the API server
 * would accept it: valid now, covering the names the webhook is called by, and chaining to ca.crt when there is
 * one. Otherwise the old pair stays, a warning gives the reason and `reloadFailures` (the metric
 * flyte_pod_webhook_certificate_reload_failures_total) counts it. Both sources: the mounted files and the Secret.
 * Also: the readiness gate `certificate` closes once the pair in use has expired.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger, Ref, References } from "effect"
import { TestClock } from "effect/testing"
import forge from "node-forge"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll } from "vitest"
import { WebhookMetrics } from "../../src/http/WebhookMetrics.ts"
import { FakeKube, KubeClient } from "../../src/kube/KubeClient.ts"
import { watchCertDir } from "../../src/services/CertFiles.ts"
import { CertService } from "../../src/services/CertService.ts"
import { fromSecretData, toSecretData } from "../../src/services/certs/CertMaterial.ts"
import { generateKeySync, issueCa, issueServing } from "../../src/services/certs/Issuer.ts"
import * as SecretTlsMaterial from "../../src/services/certs/SecretTlsMaterial.ts"
import { calledNames, servingProblems } from "../../src/services/certs/ServingCheck.ts"
import { Readiness } from "../../src/services/Readiness.ts"
import { TlsMaterial } from "../../src/services/TlsMaterial.ts"
import { parseTlsPair } from "../../src/services/TlsPair.ts"
import { WebhookConfig } from "../../src/WebhookConfig.ts"
import { DayMs } from "./fixtures.ts"

const Name = "flyte-pod-webhook.flyte.svc"
const work = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-reload-validation-"))
afterAll(() => fs.rmSync(work, { recursive: true, force: true }))

interface Pem { readonly certPem: string; readonly keyPem: string }

const ca = (name: string): Pem => {
  const key = generateKeySync(2048)
  const now = Date.now()
  const certPem = Effect.runSync(issueCa({ key, commonName: name, notBefore: new Date(now - DayMs), notAfter: new Date(now + 30 * DayMs) }))
  return { certPem, keyPem: key.privatePem }
}

/** leaf: a serving pair signed by `signer`, valid from `fromDays` to `toDays` days from now. */
const leaf = (signer: Pem, names: ReadonlyArray<string>, fromDays = -1, toDays = 10): Pem => {
  const key = generateKeySync(2048)
  const now = Date.now()
  const certPem = Effect.runSync(issueServing({
    key,
    caCertPem: signer.certPem,
    caKeyPem: signer.keyPem,
    commonName: names[0] ?? "x",
    names,
    notBefore: new Date(now + fromDays * DayMs),
    notAfter: new Date(now + toDays * DayMs)
  }))
  return { certPem, keyPem: key.privatePem }
}

/** intermediate: a CA certificate signed by `root` (node-forge, as the Issuer makes only self-signed CAs). */
const intermediate = (root: Pem, name: string): Pem => {
  const key = generateKeySync(2048)
  const cert = forge.pki.createCertificate()
  cert.publicKey = forge.pki.publicKeyFromPem(key.publicPem)
  cert.serialNumber = `01${crypto.randomBytes(8).toString("hex")}`
  cert.validity.notBefore = new Date(Date.now() - DayMs)
  cert.validity.notAfter = new Date(Date.now() + 30 * DayMs)
  cert.setSubject([{ name: "commonName", value: name }])
  cert.setIssuer(forge.pki.certificateFromPem(root.certPem).subject.attributes)
  cert.setExtensions([{ name: "basicConstraints", cA: true, critical: true }, { name: "keyUsage", keyCertSign: true, critical: true }])
  cert.sign(forge.pki.privateKeyFromPem(root.keyPem) as forge.pki.rsa.PrivateKey, forge.md.sha256.create())
  return { certPem: forge.pki.certificateToPem(cert), keyPem: key.privatePem }
}

const fingerprint = (pem: Pem) => new crypto.X509Certificate(pem.certPem).fingerprint256
const pairOf = (pem: Pem) => parseTlsPair(Buffer.from(pem.certPem), Buffer.from(pem.keyPem))

const theCa = ca("reload-ca")
const otherCa = ca("another-ca")
const initial = leaf(theCa, [Name])

/** captured: the warnings logged, with their annotations. */
const captureWarnings = (into: Array<{ message: string; reason: string }>) =>
  Logger.layer([
    Logger.make(({ fiber, logLevel, message }) => {
      if (logLevel !== "Warn") return
      const annotations = fiber.getRef(References.CurrentLogAnnotations) as Record<string, unknown>
      into.push({ message: String(Array.isArray(message) ? message[0] : message), reason: String(annotations["reason"] ?? "") })
    })
  ])

const eventually = <A, E, R>(check: Effect.Effect<A | undefined, E, R>, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 500; i++) {
      const value = yield* check
      if (value !== undefined) return value
      yield* Effect.sleep("10 millis")
    }
    return yield* Effect.die(new Error(`timed out waiting for ${what}`))
  })

const writePair = (dir: string, pem: Pem) => {
  fs.writeFileSync(path.join(dir, "tls.key"), pem.keyPem)
  fs.writeFileSync(path.join(dir, "tls.crt"), pem.certPem)
}

/** folder: ca.crt + the initial pair, watched with a short poll and the cluster name to cover. */
const watched = (name: string) =>
  Effect.gen(function*() {
    const dir = path.join(work, name)
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, "ca.crt"), theCa.certPem)
    writePair(dir, initial)
    const material = yield* watchCertDir(dir, { pollInterval: "100 millis", settle: "20 millis", names: [Name] })
    return { dir, material }
  })

/** refusedFiles: write `pem` into a watched folder; the old pair stays, one warning, the counter rises. */
const refusedFiles = (name: string, pem: Pem, reason: RegExp) =>
  Effect.gen(function*() {
    const warnings: Array<{ message: string; reason: string }> = []
    yield* Effect.gen(function*() {
      const { dir, material } = yield* watched(name)
      assert.strictEqual(yield* material.reloadFailures, 0)
      writePair(dir, pem)
      yield* eventually(Effect.map(material.reloadFailures, (n) => (n > 0 ? n : undefined)), "a refused reload")
      yield* Effect.sleep("350 millis") // a few more polls: the same refusal warns once, counts each time
      assert.strictEqual((yield* material.current).fingerprint, fingerprint(initial), "the old pair stays")
      assert.isAbove(yield* material.reloadFailures, 1, "every refused attempt counts")
    }).pipe(Effect.scoped, Effect.provide(captureWarnings(warnings)))
    const refusals = warnings.filter((w) => w.message === "serving certificate not reloaded; keeping the current one")
    assert.lengthOf(refusals, 1, JSON.stringify(warnings))
    assert.match(refusals[0]?.reason ?? "", reason)
  })

describe("file source: a new pair the API server would refuse is kept out", () => {
  it.live("an expired pair", () => refusedFiles("expired", leaf(theCa, [Name], -20, -1), /^it expired at \d{4}-/))

  it.live("a pair for another name", () =>
    refusedFiles("wrong-name", leaf(theCa, ["other.flyte.svc"]), /^it does not cover flyte-pod-webhook\.flyte\.svc \(its SANs: other\.flyte\.svc\)$/))

  it.live("a pair not signed by the CA in ca.crt", () =>
    refusedFiles("other-ca", leaf(otherCa, [Name]), /^it is not signed by a CA in ca\.crt \(issuer "CN=another-ca"\)$/))

  it.live("a good rotation still reloads, after a refused pair", () =>
    Effect.gen(function*() {
      const { dir, material } = yield* watched("good")
      writePair(dir, leaf(otherCa, [Name]))
      yield* eventually(Effect.map(material.reloadFailures, (n) => (n > 0 ? n : undefined)), "the refusal")
      const next = leaf(theCa, [Name, "extra.example.com"])
      writePair(dir, next)
      yield* eventually(Effect.map(material.current, (p) => (p.fingerprint === fingerprint(next) ? true : undefined)), "the good pair")
      const failures = yield* material.reloadFailures
      yield* Effect.sleep("300 millis")
      assert.strictEqual(yield* material.reloadFailures, failures, "nothing refused once the good pair is in")
    }).pipe(Effect.scoped))
})

describe("servingProblems", () => {
  const now = new Date()
  it("a chain through an intermediate that follows the leaf in tls.crt is accepted; without it, refused", () => {
    const middle = intermediate(theCa, "reload-intermediate")
    const signed = leaf(middle, [Name])
    const chained = pairOf({ certPem: signed.certPem + middle.certPem, keyPem: signed.keyPem })
    assert.deepStrictEqual(servingProblems(chained, { names: [Name], caBundle: theCa.certPem, now }), [])
    assert.deepStrictEqual(servingProblems(pairOf(signed), { names: [Name], caBundle: theCa.certPem, now }), [
      `it is not signed by a CA in ca.crt (issuer "CN=reload-intermediate")`
    ])
  })

  it("IP names, wildcards, SANs only (never the CN), every problem at once, a bundle of several CAs", () => {
    const pem = leaf(otherCa, ["*.flyte.svc", "127.0.0.1"], -20, -1)
    const bothCas = theCa.certPem + otherCa.certPem
    assert.deepStrictEqual(servingProblems(pairOf(pem), { names: ["a.flyte.svc", "127.0.0.1"], caBundle: bothCas, now }), [
      `it expired at ${new crypto.X509Certificate(pem.certPem).validToDate.toISOString()}`
    ])
    const problems = servingProblems(pairOf(pem), { names: ["a.b.flyte.svc", "::1"], caBundle: theCa.certPem, now })
    assert.deepStrictEqual(problems.slice(1), [
      "it does not cover a.b.flyte.svc, ::1 (its SANs: *.flyte.svc,127.0.0.1)",
      `it is not signed by a CA in ca.crt (issuer "CN=another-ca")`
    ])
    const cnOnly = leaf(theCa, [])
    assert.strictEqual(new crypto.X509Certificate(cnOnly.certPem).subject, "CN=x")
    assert.deepStrictEqual(servingProblems(pairOf(cnOnly), { names: ["x"], caBundle: "", now }), [
      "it does not cover x (its SANs: none)"
    ])
  })

  it("the names callers use: the Service's, the URL's host instead in URL mode, extraSANs; loopback when embedded", () => {
    const config = (webhook: Record<string, unknown>) =>
      Effect.runSync(WebhookConfig.pipe(Effect.provide(WebhookConfig.layerTest({ webhook }, { POD_NAMESPACE: "flyte" }))))
    assert.deepStrictEqual(calledNames(config({}), "cluster"), [Name])
    assert.deepStrictEqual(calledNames(config({ serviceName: "x", extraSANs: ["x.example.com", "10.0.0.1"] }), "cluster"), ["x.flyte.svc", "x.example.com", "10.0.0.1"])
    assert.deepStrictEqual(calledNames(config({ webhookUrl: "https://[::1]:9443/mutate", extraSANs: ["127.0.0.1"] }), "cluster"), ["::1", "127.0.0.1"])
    assert.deepStrictEqual(calledNames(config({ extraSANs: ["x"] }), "embedded"), ["localhost", "127.0.0.1"])
  })
})

describe("Secret source", () => {
  const SecretName = "flyte-pod-webhook-secret"
  const base = CertService.layerWith({ checkInterval: "50 millis", propagationGrace: "1 hour" }).pipe(
    Layer.provideMerge(Layer.mergeAll(
      KubeClient.layerTest(),
      WebhookConfig.layerTest({ webhook: { caKeySize: 2048, certSource: "secret" } }, { POD_NAMESPACE: "flyte" })
    ))
  )

  it.live("another replica's pair for the wrong names is refused and counted; a good one is taken", () =>
    Effect.gen(function*() {
      const fake = yield* FakeKube
      const tls = yield* TlsMaterial
      const created = fromSecretData(fake.secret("flyte", SecretName)?.data)
      const start = (yield* tls.current).fingerprint
      const put = (tlsCrt: string, tlsKey: string) => {
        const live = fake.secret("flyte", SecretName)
        fake.putSecret({ ...live, metadata: { name: SecretName, namespace: "flyte" }, data: toSecretData({ ...created, tlsCrt, tlsKey }) })
      }
      // same CA, fresh: RotationPolicy keeps wrong SANs until a new CA has propagated, so it reaches the source
      const wrongLeaf = leaf({ certPem: created.caCrt, keyPem: created.caKey }, ["someone-else.flyte.svc"])
      put(wrongLeaf.certPem, wrongLeaf.keyPem)
      yield* eventually(Effect.map(tls.reloadFailures, (n) => (n > 0 ? n : undefined)), "the refusal")
      assert.strictEqual((yield* tls.current).fingerprint, start)
      const good = leaf({ certPem: created.caCrt, keyPem: created.caKey }, [Name, "flyte-pod-webhook", "flyte-pod-webhook.flyte"])
      put(good.certPem, good.keyPem)
      yield* eventually(Effect.map(tls.current, (p) => (p.fingerprint === fingerprint(good) ? true : undefined)), "the good pair")
    }).pipe(Effect.provide(SecretTlsMaterial.layer.pipe(Layer.provideMerge(base)))))
})

describe("metric and readiness", () => {
  it("the counter is rendered, 0 until a pair is refused", () => {
    const metrics = new WebhookMetrics()
    const line = /^flyte_pod_webhook_certificate_reload_failures_total (\d+)$/m
    assert.strictEqual(line.exec(metrics.render())?.[1], "0")
    const failures = Ref.makeUnsafe(0)
    metrics.setGauges({
      inFlight: () => 0,
      queued: () => 0,
      peaks: () => ({ inFlight: 0, queued: 0 }),
      bodyBytesHeld: () => 0,
      certificateExpiry: () => undefined,
      certificateReloadFailures: () => Effect.runSync(Ref.get(failures))
    })
    Effect.runSync(Ref.set(failures, 3))
    assert.strictEqual(line.exec(metrics.render())?.[1], "3")
    assert.include(metrics.render(), "# TYPE flyte_pod_webhook_certificate_reload_failures_total counter")
  })

  const expiring = pairOf(leaf(theCa, [Name], -1, 2))
  it.effect("the gate `certificate` is open while the pair in use is valid and closes once it has expired", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.now())
      const tls = yield* TlsMaterial
      const readiness = yield* Readiness
      yield* TlsMaterial.keepCertificateGate(tls, readiness)
      const gate = Effect.map(readiness.check, ({ closed }) => closed.find(([name]) => name === "certificate")?.[1])
      assert.isUndefined(yield* gate, "open")
      yield* TestClock.setTime(expiring.notAfter.getTime() + 1)
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual((yield* gate)?.reason, `serving certificate ${expiring.fingerprint} expired at ${expiring.notAfter.toISOString()}`)
    }).pipe(Effect.provide(Layer.mergeAll(TlsMaterial.layerTest(expiring), Readiness.layer))))
})
