import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { FakeKube, KubeClient } from "../../src/kube/KubeClient.ts"
import { classify, forbiddenHint } from "../../src/kube/KubeErrors.ts"

const secret = (name: string, value = "a") => ({ metadata: { name }, data: { key: Buffer.from(value).toString("base64") } })

const run = <A, E>(effect: Effect.Effect<A, E, KubeClient | FakeKube>) => effect.pipe(Effect.provide(KubeClient.layerTest()))

describe("KubeClient over the fake API server", () => {
  it.live("create, read and replace with resourceVersions; stale replace is Conflict, second create AlreadyExists", () =>
    run(Effect.gen(function*() {
      const kube = yield* KubeClient
      const created = yield* kube.createSecret("ns", secret("s"))
      const read = yield* kube.getSecret("ns", "s")
      assert.strictEqual(read.metadata.resourceVersion, created.metadata.resourceVersion)
      const replaced = yield* kube.replaceSecret("ns", { ...read, data: { key: "Yg==" } })
      assert.notStrictEqual(replaced.metadata.resourceVersion, read.metadata.resourceVersion)
      const stale = yield* kube.replaceSecret("ns", { ...read, data: { key: "Yw==" } }).pipe(Effect.flip)
      assert.strictEqual(stale._tag, "Conflict")
      const again = yield* kube.createSecret("ns", secret("s")).pipe(Effect.flip)
      assert.strictEqual(again._tag, "AlreadyExists")
      const missing = yield* kube.getSecret("ns", "nope").pipe(Effect.flip)
      assert.strictEqual(missing._tag, "NotFound")
    })))

  it.live("Forbidden names the missing RBAC rule and is not retried", () =>
    run(Effect.gen(function*() {
      const kube = yield* KubeClient
      const fake = yield* FakeKube
      fake.failNext("getSecret", "Forbidden")
      const error = yield* kube.getSecret("flyte", "flyte-pod-webhook-secret").pipe(Effect.flip)
      assert.strictEqual(error._tag, "Forbidden")
      if (error._tag !== "Forbidden") return
      assert.strictEqual(
        error.hint,
        `grant "get" on secrets "flyte-pod-webhook-secret" in namespace flyte to system:serviceaccount:test:webhook`
      )
      assert.include(error.message, error.hint)
      assert.strictEqual(fake.calls().length, 1)
    })))

  it.live("a transient 500 is retried and the call succeeds", () =>
    run(Effect.gen(function*() {
      const kube = yield* KubeClient
      const fake = yield* FakeKube
      fake.putSecret({ metadata: { name: "s", namespace: "ns" }, data: {} })
      fake.failNext("getSecret", "Unavailable", 2)
      const read = yield* kube.getSecret("ns", "s")
      assert.strictEqual(read.metadata.name, "s")
      assert.deepStrictEqual(fake.calls().map((c) => c.outcome), ["failed", "failed", "ok"])
    })))

  it.live("429 and a dropped connection are transient too; retries end in Unavailable", () =>
    run(Effect.gen(function*() {
      const kube = yield* KubeClient
      const fake = yield* FakeKube
      fake.failNext("getWebhookConfiguration", { status: 429, reason: "TooManyRequests", message: "slow down" })
      fake.failNext("getWebhookConfiguration", "Unreachable", 3)
      const error = yield* kube.getWebhookConfiguration("w").pipe(Effect.flip)
      assert.strictEqual(error._tag, "Unavailable")
      assert.strictEqual(fake.calls().length, 4) // first attempt + 3 retries (layerTest policy)
    })))

  it.live("NotFound, Conflict and 422 are answers, not retried", () =>
    run(Effect.gen(function*() {
      const kube = yield* KubeClient
      const fake = yield* FakeKube
      fake.failNext("deleteWebhookConfiguration", { status: 422, reason: "Invalid", message: "bad" })
      const invalid = yield* kube.deleteWebhookConfiguration("w").pipe(Effect.flip)
      assert.strictEqual(invalid._tag, "Rejected")
      const missing = yield* kube.deleteWebhookConfiguration("w").pipe(Effect.flip)
      assert.strictEqual(missing._tag, "NotFound")
      assert.strictEqual(fake.calls().length, 2)
    })))
})

describe("KubeErrors", () => {
  it("a create hint names no object (create cannot be restricted by resourceNames)", () => {
    const { hint, verb } = forbiddenHint({ verb: "create", resource: "secrets", name: "x", namespace: "flyte" }, "")
    assert.strictEqual(verb, "create")
    assert.strictEqual(hint, `grant "create" on secrets in namespace flyte`)
  })

  it("a cluster-scoped hint asks for a ClusterRole and takes the verb the server names", () => {
    const target = { verb: "patch", resource: "mutatingwebhookconfigurations.admissionregistration.k8s.io", name: "w" } as const
    const { hint } = forbiddenHint(target, `User "u" cannot create resource "mutatingwebhookconfigurations" in API group`)
    assert.strictEqual(hint, `grant "create" on mutatingwebhookconfigurations.admissionregistration.k8s.io (cluster-scoped: a ClusterRole) to u`)
  })

  it("409 on create is AlreadyExists, on update Conflict", () => {
    const failure = { status: 409, reason: "Conflict", message: "m" }
    assert.strictEqual(classify({ verb: "create", resource: "secrets", name: "s" }, failure)._tag, "AlreadyExists")
    assert.strictEqual(classify({ verb: "update", resource: "secrets", name: "s" }, failure)._tag, "Conflict")
  })
})
