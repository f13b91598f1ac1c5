/** KubeNames: apimachinery's IsDNS1123Subdomain / IsConfigMapKey, and the alternates for a taken volume name. */
import { assert, describe, it } from "vitest"
import { alternateName, isDnsLabel, isSecretKey, isSecretName } from "../../src/domain/KubeNames.ts"

describe("Secret names (RFC 1123 subdomain)", () => {
  it.each(["db-creds", "db.creds", "a", "0", "a".repeat(253), "a1.b2-c3"])("%j is valid", (name) => assert.isTrue(isSecretName(name)))
  it.each(["", "./db-creds", "team/db/", "DB-Creds", "-a", "a-", "a..b", ".a", "a.", "a_b", "a".repeat(254), "straße"])(
    "%j is not",
    (name) => assert.isFalse(isSecretName(name))
  )
})

describe("Secret keys (ConfigMap key)", () => {
  it.each(["password", "API_Key", ".dotfile", "a-b.c_d", "k".repeat(253)])("%j is valid", (key) => assert.isTrue(isSecretKey(key)))
  it.each(["", ".", "..", "..x", "a/b", "a b", "k".repeat(254)])("%j is not", (key) => assert.isFalse(isSecretKey(key)))
})

describe("alternateName", () => {
  it("appends -<i>, cutting the name so that it stays a DNS label of at most 63 characters", () => {
    assert.strictEqual(alternateName("aws-secret-vol", 1), "aws-secret-vol-1")
    const long = `fsec-${"a".repeat(58)}`
    assert.lengthOf(long, 63)
    for (const i of [1, 9, 10, 123]) {
      const name = alternateName(long, i)
      assert.lengthOf(name, 63)
      assert.isTrue(name.endsWith(`-${i}`))
      assert.isTrue(isDnsLabel(name))
    }
  })
})
