/**
 * Issue 12, case 4: differences from Flyte where ours is right and docs/flyte-compat.md now says so, pinned here.
 * (These held before the issue too; the tests keep them from drifting from the docs.)
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { encodeSecret } from "../../src/domain/SecretAnnotation.ts"
import type { SecretRequest } from "../../src/domain/SecretRequest.ts"
import { configDoc, opsFor, secret } from "../fixtures/Engine.ts"
import { reviewWith } from "../fixtures/Mutators.ts"
import { type Json, patchOf, pod, review } from "../fixtures/Pods.ts"

const patched = (secrets: ReadonlyArray<SecretRequest>, webhook: Record<string, unknown>, env: Record<string, string> = {}) => {
  const annotations = Object.fromEntries(secrets.map((s, i) => [`flyte.secrets/s${i}`, encodeSecret(s)]))
  return patchOf(Effect.runSync(reviewWith(review(pod({ annotations })), configDoc(webhook), env)).review) ?? []
}

describe("differences from Flyte, on purpose (docs/flyte-compat.md, Deliberate differences)", () => {
  it("puller init containers get every env var injected for the Pod, wherever the puller's secret is in the order", () => {
    const ops = patched([secret({ group: "arn:g", key: "k" }), secret({ group: "api", key: "token", mountRequirement: "ENV_VAR" })], {
      secretManagerType: "AWS"
    }, { "FLYTE_SECRET_API_TOKEN": "v" })
    const puller = (ops.find((op) => op["path"] === "/spec/initContainers")!["value"] as ReadonlyArray<Json>)[0]!
    assert.include((puller["env"] as ReadonlyArray<Json>).map((e) => e["name"]), "_FSEC_API_TOKEN")
  })

  it("Unicode keys are upper-cased as flytekit does (Python's str.upper: straße -> STRASSE; Go gives STRAßE)", () => {
    const ops = patched([secret({ group: "g", key: "straße", mountRequirement: "ENV_VAR" })], {}, { "FLYTE_SECRET_G_STRASSE": "v" })
    assert.deepStrictEqual((ops[0]!["value"] as ReadonlyArray<Json>).map((e) => e["name"]), ["FLYTE_SECRETS_ENV_PREFIX", "_FSEC_G_STRASSE"])
  })

  it("a Vault db secret without a key is served: the whole credential, in the file named after the group", () => {
    const ops = opsFor(configDoc({ secretManagerType: "Vault" }), pod(), [secret({ group: "database/creds/ro", groupVersion: "db" })])
    const file = ops.find((op) => op.path.includes("agent-inject-file-"))
    assert.strictEqual(file?.value, "database/creds/ro")
  })

  it("Azure without group_version: --id is the URI without a trailing /", () => {
    const ops = patched([secret({ group: "https://v.vault.azure.net/secrets/S1" })], { secretManagerType: "Azure" })
    const puller = (ops.find((op) => op["path"] === "/spec/initContainers")!["value"] as ReadonlyArray<Json>)[0]!
    assert.include(String((puller["command"] as ReadonlyArray<string>)[2]), '--id "https://v.vault.azure.net/secrets/S1" ')
  })
})
