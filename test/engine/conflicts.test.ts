/**
 * Each way a Pod can keep a secret from arriving, and what the engine says about it (FileCheck and the env check of
 * the Patcher, through the real Mutator). Messages are asserted whole: they are what a user reads to fix the Pod.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { encodeSecret } from "../../src/domain/SecretAnnotation.ts"
import type { SecretRequest } from "../../src/domain/SecretRequest.ts"
import { configDoc, secret } from "../fixtures/Engine.ts"
import { add, DIR, dirEnv, filePrefixEnv } from "../fixtures/Expected.ts"
import { reviewWith } from "../fixtures/Mutators.ts"
import { type Json, patchOf, pod, responseOf, review } from "../fixtures/Pods.ts"

const answer = (spec: Json, secrets: ReadonlyArray<SecretRequest>, webhook: Record<string, unknown> = {}) => {
  const annotations = Object.fromEntries(secrets.map((s, i) => [`flyte.secrets/s${i}`, encodeSecret(s)]))
  return Effect.runSync(reviewWith(review(pod({ annotations, spec })), configDoc(webhook)))
}
const denial = (result: ReturnType<typeof answer>) => {
  assert.strictEqual(responseOf(result.review)["allowed"], false)
  return String((responseOf(result.review)["status"] as Json)["message"])
}
const prefix = (label: string) => `flyte-pod-webhook: secret "${label}" from annotation flyte.secrets/s0 would not reach the Pod: `
const main = (extra: Json) => ({ name: "main", image: "flytekit", ...extra })

describe("a volume of the same Secret already at the secrets folder", () => {
  const atFolder = (secretSource: Json) => ({
    containers: [main({ volumeMounts: [{ name: "mine", mountPath: `${DIR}/db-creds` }] })],
    volumes: [{ name: "mine", secret: { secretName: "db-creds", ...secretSource } }]
  })

  it("without items, the key in lower case: it already projects the file; nothing to add but env", () => {
    const result = answer(atFolder({}), [secret({ group: "db-creds", key: "password" })])
    assert.deepStrictEqual(patchOf(result.review), [add("/spec/containers/0/env", [dirEnv, filePrefixEnv])])
  })

  it("without items, a key with capitals: projected under its own name, not the lower-cased one flytekit reads", () => {
    const result = answer(atFolder({}), [secret({ group: "db-creds", key: "Password" })])
    assert.strictEqual(
      denial(result),
      `${prefix("db-creds/Password")}volume "mine" at ${DIR}/db-creds projects every key of Secret "db-creds" under its ` +
        `own name, so key "Password" is not at ${DIR}/db-creds/password`
    )
  })

  it("with another key mapped to our file name: denied, naming both keys", () => {
    const result = answer(atFolder({ items: [{ key: "other", path: "password" }] }), [secret({ group: "db-creds", key: "password" })])
    assert.strictEqual(
      denial(result),
      `${prefix("db-creds/password")}volume "mine" at ${DIR}/db-creds puts key "other" at ${DIR}/db-creds/password, where key "password" must be`
    )
  })

  it("mounted with a sub-path: not our folder", () => {
    const spec = atFolder({})
    ;((spec.containers[0] as Json)["volumeMounts"] as Array<Json>)[0]!["subPath"] = "x"
    assert.strictEqual(
      denial(answer(spec, [secret({ group: "db-creds", key: "password" })])),
      `${prefix("db-creds/password")}container "main" already mounts volume "mine" at ${DIR}/db-creds, where volume ` +
        `"mrrc1y2smvshgxy" must go (it mounts a sub-path of it)`
    )
  })
})

describe("mounts that hide a secret file", () => {
  it("K8s: a mount on the secret's own file", () => {
    const result = answer({
      containers: [main({ volumeMounts: [{ name: "data", mountPath: `${DIR}/db-creds/password` }] })],
      volumes: [{ name: "data", emptyDir: {} }]
    }, [secret({ group: "db-creds", key: "password" })])
    assert.strictEqual(
      denial(result),
      `${prefix("db-creds/password")}container "main" mounts volume "data" at ${DIR}/db-creds/password, which hides ${DIR}/db-creds/password`
    )
  })

  it("AWS: a folder below the secrets folder, in an init container", () => {
    const result = answer({
      initContainers: [{ name: "init", image: "busybox", volumeMounts: [{ name: "data", mountPath: `${DIR}/g` }] }],
      containers: [main({})],
      volumes: [{ name: "data", emptyDir: {} }]
    }, [secret({ group: "g", key: "k" })], { secretManagerType: "AWS" })
    assert.strictEqual(denial(result), `${prefix("g/k")}container "init" mounts volume "data" at ${DIR}/g, which hides ${DIR}/g/k`)
  })

  it("Vault: a folder below the secrets folder hides the agent's file; the agent's own mount at the folder does not", () => {
    const vault = secret({ group: "kv/app", groupVersion: "kv2", key: "token" })
    const hidden = answer({ containers: [main({ volumeMounts: [{ name: "data", mountPath: `${DIR}/kv` }] })], volumes: [{ name: "data", emptyDir: {} }] }, [vault], {
      secretManagerType: "Vault"
    })
    assert.strictEqual(denial(hidden), `${prefix("kv/app@kv2/token")}container "main" mounts volume "data" at ${DIR}/kv, which hides ${DIR}/kv/app/token`)
    const agent = answer({ containers: [main({ volumeMounts: [{ name: "vault-secrets", mountPath: DIR }] })], volumes: [{ name: "vault-secrets", emptyDir: {} }] }, [vault], {
      secretManagerType: "Vault"
    })
    assert.strictEqual(responseOf(agent.review)["allowed"], true)
  })

  it("a K8s secret's folder inside the secrets folder hides an AWS secret's file below it", () => {
    // K8s cannot serve key "x/y" (not a Secret key), so AWS does, into /etc/flyte/secrets/db-creds/x/y; the K8s
    // secret db-creds/password is mounted at /etc/flyte/secrets/db-creds, over it.
    const result = answer({ containers: [main({})] }, [
      secret({ group: "db-creds", key: "x/y" }),
      secret({ group: "db-creds", key: "password" })
    ], { secretManagerTypes: ["K8s", "AWS"] })
    assert.strictEqual(
      denial(result),
      `${prefix("db-creds/x/y")}container "main" mounts volume "mrrc1y2smvshgxy" at ${DIR}/db-creds, which hides ${DIR}/db-creds/x/y`
    )
  })
})

describe("env vars", () => {
  it("the Pod's own FLYTE_SECRETS_DEFAULT_DIR elsewhere: flytekit would look elsewhere, the FILE secret is shadowed", () => {
    const result = answer({ containers: [main({ env: [{ name: "FLYTE_SECRETS_DEFAULT_DIR", value: "/other" }] })] }, [
      secret({ group: "db-creds", key: "password" })
    ])
    assert.strictEqual(denial(result), `${prefix("db-creds/password")}container "main" sets env var FLYTE_SECRETS_DEFAULT_DIR itself`)
    assert.deepStrictEqual(result.shadowed, ["db-creds/password"])
  })

  it("two secrets asking for the same env_var name with different values: the second is refused", () => {
    const result = answer({ containers: [main({})] }, [
      secret({ group: "a", key: "k", mountRequirement: "ENV_VAR", envVar: "TOKEN" }),
      secret({ group: "b", key: "k", mountRequirement: "ENV_VAR", envVar: "TOKEN" })
    ])
    assert.strictEqual(
      denial(result),
      'flyte-pod-webhook: secret "b/k" from annotation flyte.secrets/s1 would not reach the Pod: ' +
        'env var TOKEN is also set, to another value, for secret "a/k"'
    )
    assert.isUndefined(result.shadowed)
  })

  it("two secrets whose Flyte env names collide (keys b_c and B_C of Secret a are both _FSEC_A_B_C): the second is refused", () => {
    // docs/flyte-compat.md, "Deliberate differences": Flyte let the first win silently. Secret keys are
    // case-sensitive, the env name is upper-cased.
    const result = answer({ containers: [main({})] }, [
      secret({ group: "a", key: "b_c", mountRequirement: "ENV_VAR" }),
      secret({ group: "a", key: "B_C", mountRequirement: "ENV_VAR" })
    ])
    assert.strictEqual(
      denial(result),
      'flyte-pod-webhook: secret "a/B_C" from annotation flyte.secrets/s1 would not reach the Pod: ' +
        'env var _FSEC_A_B_C is also set, to another value, for secret "a/b_c"'
    )
    assert.deepStrictEqual(result.secrets, ["a/b_c", "a/B_C"])
  })

  it("a Pod of many containers that all shadow the secret: three reasons and a count, not one line per container", () => {
    const containers = Array.from({ length: 10 }, (_, i) => main({ name: `c${i}`, env: [{ name: "_FSEC_A_K", value: "mine" }] }))
    const message = denial(answer({ containers }, [secret({ group: "a", key: "k", mountRequirement: "ENV_VAR" })]))
    assert.strictEqual(
      message,
      `${prefix("a/k")}container "c0" sets env var _FSEC_A_K itself; container "c1" sets env var _FSEC_A_K itself; ` +
        'container "c2" sets env var _FSEC_A_K itself; and 7 more'
    )
  })
})
