/**
 * doctor's pure parts, table by table: the report's statuses and exit codes, label selectors as the API
 * server evaluates them, check 2 over handshake facts (a real TLS handshake with a local server included),
 * check 3 for URL registrations, and check 1's sideEffects finding.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as crypto from "node:crypto"
import * as https from "node:https"
import type { AddressInfo } from "node:net"
import { certificateFindings } from "../../src/cli/DoctorCertificates.ts"
import { endpointFindings } from "../../src/cli/DoctorEndpoints.ts"
import { handshake } from "../../src/cli/DoctorHandshake.ts"
import { registrationFindings } from "../../src/cli/DoctorRegistration.ts"
import { check, exitCode, pass, unknown, warn, worst } from "../../src/cli/DoctorReport.ts"
import { notCalledBecause, selects } from "../../src/cli/DoctorSelectors.ts"
import { issueServing, makeCa } from "../../src/cli/EmbeddedCerts.ts"
import { desiredConfiguration } from "../../src/services/registrar/WebhookManifest.ts"
import { parseSettings } from "../../src/WebhookConfig.ts"

const ca = makeCa("checks CA", 365)
const other = makeCa("other CA", 365)
const leaf = issueServing(ca, { dns: ["localhost"], ips: ["127.0.0.1"] }, 20)
const settings = parseSettings({}, { POD_NAMESPACE: "flyte" }, "<test>")

describe("DoctorReport", () => {
  it("a check is its worst finding; exit 1 on a failure, else 2 on an unknown, else 0", () => {
    assert.strictEqual(worst(["pass", "skip", "warn"]), "warn")
    assert.strictEqual(worst(["unknown", "fail"]), "fail")
    assert.strictEqual(worst(["skip"]), "skip")
    const ok = check(1, "a", [pass("x"), warn("y", "z")])
    const cannot = check(2, "b", [unknown("x", "grant y")])
    const broken = check(3, "c", [{ status: "fail", message: "x", fix: "y" }])
    assert.strictEqual(exitCode([ok]), 0)
    assert.strictEqual(exitCode([ok, cannot]), 2)
    assert.strictEqual(exitCode([ok, cannot, broken]), 1)
  })
})

describe("label selectors (metav1.LabelSelector semantics)", () => {
  const table: ReadonlyArray<[unknown, Record<string, string>, boolean]> = [
    [undefined, {}, true],
    [{}, { a: "1" }, true],
    [{ matchLabels: { a: "1" } }, { a: "1", b: "2" }, true],
    [{ matchLabels: { a: "1" } }, { a: "2" }, false],
    [{ matchExpressions: [{ key: "a", operator: "In", values: ["1", "2"] }] }, { a: "2" }, true],
    [{ matchExpressions: [{ key: "a", operator: "NotIn", values: ["1"] }] }, {}, true],
    [{ matchExpressions: [{ key: "a", operator: "NotIn", values: ["1"] }] }, { a: "1" }, false],
    [{ matchExpressions: [{ key: "a", operator: "Exists" }] }, {}, false],
    [{ matchExpressions: [{ key: "a", operator: "DoesNotExist" }] }, {}, true],
    [{ matchLabels: { a: "1" }, matchExpressions: [{ key: "b", operator: "Exists" }] }, { a: "1" }, false]
  ]
  it.each(table)("%j on %j -> %s", (selector, labels, expected) => {
    assert.strictEqual(selects(selector as never, labels), expected)
  })

  it("names every reason a Pod is not sent", () => {
    const webhook = { ...desiredConfiguration(settings, "").webhooks![0]!, namespaceSelector: { matchLabels: { tier: "tasks" } }, rules: [] }
    assert.deepStrictEqual(notCalledBecause(webhook, "ns1", {}, { tier: "web" }), [
      "its rules do not cover CREATE of pods (v1)",
      "the Pod's labels {} do not match objectSelector {\"matchLabels\":{\"inject-flyte-secrets\":\"true\"}}",
      "namespace ns1 (labels {\"tier\":\"web\"}) is excluded by namespaceSelector {\"matchLabels\":{\"tier\":\"tasks\"}}"
    ])
  })
})

describe("check 2 over handshake facts", () => {
  const now = new Date()
  const served = (authorized: boolean, fingerprint: string, days = 20) => ({
    _tag: "Handshake" as const,
    url: "https://127.0.0.1:1/mutate",
    served: { _tag: "Served" as const, fingerprint, subject: "CN=localhost", issuer: "CN=checks CA", notAfter: new Date(now.getTime() + days * 86_400_000), authorized, authorizationError: authorized ? undefined : "UNABLE_TO_VERIFY_LEAF_SIGNATURE" }
  })
  const unreadable = { _tag: "Unreadable" as const, reason: "forbidden" }
  const leafPrint = new crypto.X509Certificate(leaf.certPem).fingerprint256

  it("verified and renewed in time passes; fewer than 30 days left warns", () => {
    const findings = certificateFindings({ now, caBundlePem: ca.certPem, stored: unreadable, served: served(true, leafPrint) })
    assert.deepStrictEqual(findings.map((f) => f.status), ["pass", "skip", "pass", "warn"])
    assert.match(findings[3]!.message, /^served certificate: 20 days left/)
  })

  it("an unverified certificate fails naming both fingerprints; a stored/served mismatch warns", () => {
    const material = { caCrt: ca.certPem, caKey: "", tlsCrt: leaf.certPem, tlsKey: "" }
    const findings = certificateFindings({ now, caBundlePem: other.certPem, stored: { _tag: "Read", material }, served: served(false, "AA:BB") })
    const failed = findings.filter((f) => f.status === "fail").map((f) => f.message).join("\n")
    assert.include(failed, new crypto.X509Certificate(other.certPem).fingerprint256)
    assert.include(failed, "sha256 AA:BB")
    assert.include(failed, leafPrint)
    assert.isTrue(findings.some((f) => f.status === "warn" && f.message === `the webhook serves sha256 AA:BB, the Secret holds sha256 ${leafPrint}`))
  })

  it("nothing to compare is unknown; an empty caBundle fails", () => {
    const proxyForbidden = { _tag: "Proxy" as const, target: "Service a/b:443", answered: false, forbidden: true, message: "forbidden" }
    assert.isTrue(certificateFindings({ now, caBundlePem: ca.certPem, stored: unreadable, served: proxyForbidden }).some((f) => f.status === "unknown"))
    assert.strictEqual(certificateFindings({ now, caBundlePem: "", stored: unreadable, served: proxyForbidden })[0]!.status, "fail")
  })

  it.live("handshake: verifies against the caBundle and the URL's host, reads the served certificate", () =>
    Effect.gen(function*() {
      const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (_req, res) => res.end())
      yield* Effect.promise(() => new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve)))
      const port = (server.address() as AddressInfo).port
      try {
        const good = yield* handshake(`https://127.0.0.1:${port}/mutate`, ca.certPem, 2_000)
        assert.strictEqual(good._tag === "Served" && good.authorized, true)
        assert.strictEqual(good._tag === "Served" ? good.fingerprint : "", leafPrint)
        const wrongCa = yield* handshake(`https://127.0.0.1:${port}/mutate`, other.certPem, 2_000)
        assert.strictEqual(wrongCa._tag === "Served" && wrongCa.authorized, false)
      } finally {
        server.close()
      }
      // a certificate from the right CA for another name: the chain verifies, the name does not
      const named = issueServing(ca, { dns: ["example.test"], ips: [] }, 20)
      const elsewhere = https.createServer({ cert: named.certPem, key: named.keyPem }, (_req, res) => res.end())
      yield* Effect.promise(() => new Promise<void>((resolve) => elsewhere.listen(0, "127.0.0.1", resolve)))
      try {
        const wrongName = yield* handshake(`https://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/mutate`, ca.certPem, 2_000)
        assert.strictEqual(wrongName._tag === "Served" && wrongName.authorized, false)
        assert.match(wrongName._tag === "Served" ? wrongName.authorizationError ?? "" : "", /IP: 127\.0\.0\.1 is not in the cert's list/)
      } finally {
        elsewhere.close()
      }
      const closed = yield* handshake(`https://127.0.0.1:${port}/mutate`, ca.certPem, 2_000)
      assert.strictEqual(closed._tag, "Unreachable")
    }))
})

describe("checks 1 and 3", () => {
  it("a URL registration without a Service skips check 3, with the reason", () => {
    const findings = endpointFindings({ target: { namespace: "flyte", name: "flyte-pod-webhook", port: 443 }, url: "https://x/mutate", service: { _tag: "Missing" }, slices: [] })
    assert.deepStrictEqual(findings.map((f) => f.status), ["skip"])
    assert.match(findings[0]!.message, /^URL registration \(https:\/\/x\/mutate\): the API server calls that URL/)
    const noService = endpointFindings({ target: { namespace: "flyte", name: "flyte-pod-webhook", port: 443 }, url: undefined, service: { _tag: "Missing" }, slices: [] })
    assert.strictEqual(noService[0]!.status, "fail")
  })

  it("sideEffects other than None fails check 1 (dry runs would be refused)", () => {
    const live = desiredConfiguration(settings, ca.certPem)
    const edited = { ...live, webhooks: live.webhooks!.map((w) => ({ ...w, sideEffects: "Unknown" })) }
    const findings = registrationFindings(settings, edited)
    assert.isTrue(findings.some((f) => f.status === "fail" && f.message.startsWith("sideEffects is \"Unknown\"")))
  })
})
