/**
 * The allowed TLS 1.2 cipher suites (src/config/TlsCipherSuites.ts): each one ECDHE with an AEAD cipher (Mozilla
 * intermediate without DHE), known to this Node's OpenSSL under its OpenSSL name, and readable by either name.
 */
import { assert, describe, it } from "@effect/vitest"
import * as tls from "node:tls"
import { allowedCipherSuites, openSslName } from "../../src/config/TlsCipherSuites.ts"

describe("TlsCipherSuites", () => {
  it("every allowed suite is ECDHE + AEAD and known to Node's OpenSSL", () => {
    const known = new Set(tls.getCiphers())
    assert.lengthOf(allowedCipherSuites, 6)
    for (const [iana, openssl] of allowedCipherSuites) {
      assert.match(iana, /^TLS_ECDHE_(RSA|ECDSA)_WITH_(AES_(128|256)_GCM|CHACHA20_POLY1305)_SHA(256|384)$/)
      assert.isTrue(known.has(openssl.toLowerCase()), `${openssl} is a cipher this Node knows`)
    }
  })

  it("reads IANA, Go and OpenSSL names, any case; refuses the rest", () => {
    assert.strictEqual(openSslName("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"), "ECDHE-ECDSA-AES128-GCM-SHA256")
    assert.strictEqual(openSslName("tls_ecdhe_rsa_with_chacha20_poly1305"), "ECDHE-RSA-CHACHA20-POLY1305")
    assert.strictEqual(openSslName("ECDHE-RSA-AES256-GCM-SHA384"), "ECDHE-RSA-AES256-GCM-SHA384")
    for (const refused of ["TLS_RSA_WITH_AES_128_GCM_SHA256", "DHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-SHA256", "TLS_AES_128_GCM_SHA256", ""]) {
      assert.isUndefined(openSslName(refused), refused)
    }
  })
})
