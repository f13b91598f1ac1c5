import { assert, describe, it } from "@effect/vitest"
import { Result } from "effect"
import * as fc from "fast-check"
import { encodeString } from "../../src/domain/Base32.ts"
import {
  compareSuffix,
  decodeSecret,
  encodeAnnotations,
  encodeSecret,
  type InvalidAnnotations,
  requestedSecrets,
  type RequestedSecrets
} from "../../src/domain/SecretAnnotation.ts"
import { makeSecretRequest } from "../../src/domain/SecretRequest.ts"
import { secretRequest } from "./SecretArbitraries.ts"

/** The `flyte.secrets/s0` annotation of the shared fixture (bench/flyte-task-pod-review.json is a copy) (a Pod flytepropeller made). */
const FixtureAnnotation =
  "m4zg54lqhiqcezdcfvrxezleomrau12fpe4caitqmfzxg42pojscectnn41w34c6ojsxc4ljojsw1zlooq4carkokzpvmqksbi"

const decodedOk = (value: string) => {
  const result = decodeSecret(value)
  if (Result.isFailure(result)) return assert.fail(`expected ${value} to decode: ${result.failure.message}`)
  return result.success
}

const succeeded = (result: RequestedSecrets | InvalidAnnotations): RequestedSecrets =>
  result._tag === "Success" ? result : assert.fail(`expected success, got ${result.annotation}: ${result.reason}`)

const failed = (result: RequestedSecrets | InvalidAnnotations): InvalidAnnotations =>
  result._tag === "Failure" ? result : assert.fail("expected a failure")

describe("SecretAnnotation values", () => {
  it("matches Flyte's test vectors", () => {
    assert.strictEqual(encodeSecret(makeSecretRequest({ group: ";':/\\" })), "m4zg54lqhiqceozhhixvyxbcbi")
    assert.strictEqual(encodeSecret(makeSecretRequest({ key: "my_key" })), "nnsxsoraejwxsx2lmv3secq")
    assert.deepStrictEqual(decodedOk("m4zg54lqhiqceozhhixvyxbcbi"), {
      secret: makeSecretRequest({ group: ";':/\\" }),
      warnings: []
    })
    assert.deepStrictEqual(decodedOk("nnsxsoraejwxsx2lmv3secq").secret, makeSecretRequest({ key: "my_key" }))
  })

  it("decodes the annotation of a real flytepropeller Pod", () => {
    assert.deepStrictEqual(decodedOk(FixtureAnnotation), {
      secret: makeSecretRequest({ group: "db-creds", key: "password", mountRequirement: "ENV_VAR" }),
      warnings: []
    })
    assert.strictEqual(encodeSecret(decodedOk(FixtureAnnotation).secret), FixtureAnnotation)
  })

  it("round-trips any secret (1,000 runs)", () => {
    fc.assert(
      fc.property(secretRequest, (secret) => {
        const value = encodeSecret(secret)
        assert.match(value, /^[a-z1-6]*$/)
        assert.deepStrictEqual(decodedOk(value), { secret, warnings: [] })
      }),
      { numRuns: 1000 }
    )
  })

  it("passes unknown-field warnings through", () => {
    const value = encodeString("group: \"g\"\nrotation_days: 30\n")
    assert.deepStrictEqual(decodedOk(value), {
      secret: makeSecretRequest({ group: "g" }),
      warnings: ["ignored unknown field of flyteidl.core.Secret: rotation_days"]
    })
  })

  it("reports bad base32 as a Base32Error and bad text as a ProtoTextError", () => {
    const badChar = decodeSecret("m4zg0")
    assert.isTrue(Result.isFailure(badChar) && badChar.failure._tag === "Base32Error")
    const badText = decodeSecret(encodeString("group: \"g\"\nkey: 'k"))
    if (Result.isSuccess(badText) || badText.failure._tag !== "ProtoTextError") return assert.fail("expected a ProtoTextError")
    assert.deepStrictEqual([badText.failure.line, badText.failure.column], [2, 6])
  })
})

describe("encodeAnnotations", () => {
  it("numbers the annotations s0, s1, ... in order", () => {
    const secrets = [makeSecretRequest({ key: "my_key" }), makeSecretRequest({ group: ";':/\\" })]
    assert.deepStrictEqual(encodeAnnotations(secrets), {
      "flyte.secrets/s0": "nnsxsoraejwxsx2lmv3secq",
      "flyte.secrets/s1": "m4zg54lqhiqceozhhixvyxbcbi"
    })
  })
})

describe("requestedSecrets", () => {
  const value = (key: string) => encodeSecret(makeSecretRequest({ group: "g", key }))

  it("orders by numeric suffix, then non-numeric suffixes in string order, ignoring other keys", () => {
    const annotations = {
      "flyte.secrets/sx": value("x"),
      "flyte.secrets/s10": value("10"),
      "other/annotation": "not base32 at all!",
      "flyte.secrets/sa": value("a"),
      "flyte.secrets/s2": value("2"),
      "flyte.secrets/x": "!!",
      "Flyte.secrets/s3": "!!",
      "flyte.secrets/s0": value("0")
    }
    const result = succeeded(requestedSecrets(annotations))
    assert.deepStrictEqual(result.secrets.map((r) => r.annotation), [
      "flyte.secrets/s0",
      "flyte.secrets/s2",
      "flyte.secrets/s10",
      "flyte.secrets/sa",
      "flyte.secrets/sx"
    ])
    assert.deepStrictEqual(result.secrets.map((r) => r.secret.key), ["0", "2", "10", "a", "x"])
    assert.deepStrictEqual(result.warnings, [])
  })

  it("orders numbers by value without overflow, leading zeros tie-broken by text", () => {
    const suffixes = ["b", "99999999999999999999", "10", "", "007", "7", "2", "1a"]
    assert.deepStrictEqual([...suffixes].sort(compareSuffix), ["2", "007", "7", "10", "99999999999999999999", "", "1a", "b"])
  })

  it("returns nothing for a Pod without annotations", () => {
    assert.deepStrictEqual(requestedSecrets(undefined), { _tag: "Success", secrets: [], warnings: [] })
    assert.deepStrictEqual(requestedSecrets({ app: "x" }), { _tag: "Success", secrets: [], warnings: [] })
  })

  it("decodes every annotation written by encodeAnnotations, in order (s2 before s10)", () => {
    fc.assert(
      fc.property(fc.array(secretRequest, { maxLength: 14 }), (secrets) => {
        const result = succeeded(requestedSecrets(encodeAnnotations(secrets)))
        assert.deepStrictEqual(result.secrets, secrets.map((secret, i) => ({ annotation: `flyte.secrets/s${i}`, secret })))
      }),
      { numRuns: 200 }
    )
  })

  it("prefixes warnings with their annotation", () => {
    const result = succeeded(requestedSecrets({ "flyte.secrets/s0": encodeString("key: 'k' new_field { a: 1 }") }))
    assert.deepStrictEqual(result.warnings, [
      "flyte.secrets/s0: ignored unknown field of flyteidl.core.Secret: new_field"
    ])
  })

  it("reports every invalid annotation; the first one in order leads", () => {
    const result = failed(requestedSecrets({
      "flyte.secrets/s3": encodeString("mount_requirement: SECRET_FILE"),
      "flyte.secrets/s0": value("ok"),
      "flyte.secrets/s1": "nnsx0"
    }))
    assert.strictEqual(result.annotation, "flyte.secrets/s1")
    assert.strictEqual(
      result.reason,
      "invalid base32 character \"0\" at position 4: expected one of a-z, 1-6 (also invalid: flyte.secrets/s3)"
    )
    assert.deepStrictEqual(result.errors.map((e) => [e._tag, e.annotation, e.cause._tag]), [
      ["AnnotationError", "flyte.secrets/s1", "Base32Error"],
      ["AnnotationError", "flyte.secrets/s3", "ProtoTextError"]
    ])
    assert.strictEqual(
      result.errors[1]?.message,
      "flyte.secrets/s3: invalid flyteidl.core.Secret text at line 1, column 20: invalid value for enum field " +
        "\"mount_requirement\": \"SECRET_FILE\" (expected ANY, ENV_VAR, FILE or their numbers 0, 1, 2)"
    )
  })

  it("names a single invalid annotation without an 'also' list", () => {
    const result = failed(requestedSecrets({ "flyte.secrets/s0": "m" }))
    assert.strictEqual(result.annotation, "flyte.secrets/s0")
    assert.notInclude(result.reason, "also invalid")
    assert.include(result.reason, "invalid base32 length")
  })
})
