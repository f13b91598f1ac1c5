/**
 * The `certificate` readiness gate: closed while the certificate being served has expired (the API server then
 * fails every call with an x509 error, so the replica must not count as ready), open again once a valid
 * certificate is published.
 */
import { Effect, Layer } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { generateKeySync, issueServing } from "../../src/services/certs/Issuer.ts"
import { TlsMaterial, type TlsSource } from "../../src/services/TlsMaterial.ts"
import { parseTlsPair } from "../../src/services/TlsPair.ts"
import { ca, probe, result, servingPair, startServer } from "./support.ts"

const DAY = 86_400_000

const expiredPair = () => {
  const key = generateKeySync(2048)
  const certPem = Effect.runSync(issueServing({
    key,
    caCertPem: ca.certPem,
    caKeyPem: ca.keyPem,
    commonName: "localhost",
    names: ["localhost", "127.0.0.1"],
    notBefore: new Date(Date.now() - 2 * DAY),
    notAfter: new Date(Date.now() - DAY)
  }))
  return parseTlsPair(Buffer.from(certPem), Buffer.from(key.privatePem))
}

describe("certificate readiness gate", () => {
  let server: Awaited<ReturnType<typeof startServer>>
  let source: TlsSource
  const expired = expiredPair()
  beforeAll(async () => {
    source = Effect.runSync(TlsMaterial.makeSource(expired))
    server = await startServer({
      tls: Layer.succeed(TlsMaterial, source.material),
      review: () => Effect.succeed(result("u", "unchanged", { allowed: true }))
    })
  })
  afterAll(() => server.dispose())

  it("an expired certificate being served closes the gate, naming when it expired", async () => {
    const ready = await probe(server.probePort, "/readyz")
    expect(ready.status).toBe(503)
    expect(ready.json()).toStrictEqual({
      ready: false,
      closed: { certificate: `serving certificate ${expired.fingerprint} expired at ${expired.notAfter.toISOString()}` }
    })
  })

  it("a valid certificate published opens it again", async () => {
    Effect.runSync(source.publish(servingPair))
    let status = 0
    for (let i = 0; i < 100 && status !== 200; i++) {
      status = (await probe(server.probePort, "/readyz")).status
      if (status !== 200) await new Promise((r) => setTimeout(r, 20))
    }
    expect(status).toBe(200)
  })
})
