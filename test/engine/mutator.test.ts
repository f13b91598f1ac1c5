/**
 * Mutator: AdmissionReview in, AdmissionReview out, through the real layers (Mutator.layerNoDeps over
 * SecretLookup.layer and WebhookConfig.layerTest). Expected answers are written out from the spec and
 * apiserver-contract.md ("The answer").
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as fs from "node:fs"
import { Mutator } from "../../src/admission/Mutator.ts"
import { encodeString } from "../../src/domain/Base32.ts"
import { encodeSecret } from "../../src/domain/SecretAnnotation.ts"
import { notFound, type SecretManager } from "../../src/services/managers/SecretManager.ts"
import { Patcher } from "../../src/services/Patcher.ts"
import { SecretLookup } from "../../src/services/SecretLookup.ts"
import { WebhookConfig } from "../../src/WebhookConfig.ts"
import { configDoc, secret } from "../fixtures/Engine.ts"
import { add, prefixEnv, secretRef } from "../fixtures/Expected.ts"
import { reviewWith } from "../fixtures/Mutators.ts"
import { type Json, patchOf, pod, responseOf, review } from "../fixtures/Pods.ts"

const envSecret = (group: string, key: string) => encodeSecret(secret({ group, key, mountRequirement: "ENV_VAR" }))
const labelledPod = pod({ annotations: { "flyte.secrets/s0": envSecret("db-creds", "password") } })
const dbCredsOps = [
  add("/spec/containers/0/env", [secretRef("_FSEC_DB-CREDS_PASSWORD", "db-creds", "password"), prefixEnv])
]

describe("AdmissionReview versions", () => {
  it.effect.each(["admission.k8s.io/v1", "admission.k8s.io/v1beta1"])("%s: echoes apiVersion, kind and uid; base64 JSONPatch", (apiVersion) =>
    Effect.gen(function*() {
      const result = yield* reviewWith(review(labelledPod, { apiVersion, uid: "uid-1234" }))
      assert.strictEqual(result.review["apiVersion"], apiVersion)
      assert.strictEqual(result.review["kind"], "AdmissionReview")
      const response = responseOf(result.review)
      assert.strictEqual(response["uid"], "uid-1234")
      assert.strictEqual(response["allowed"], true)
      assert.strictEqual(response["patchType"], "JSONPatch")
      assert.match(String(response["patch"]), /^[A-Za-z0-9+/]+=*$/)
      assert.deepStrictEqual(patchOf(result.review), dbCredsOps)
      assert.deepStrictEqual(response["auditAnnotations"], { "injected-secrets": "db-creds/password" })
      assert.strictEqual(result.outcome, "patched")
      assert.deepStrictEqual(result.secrets, ["db-creds/password"])
      assert.deepStrictEqual(result.managers, [{ manager: "K8s", ok: true }])
    }))
})

describe("requests we leave alone", () => {
  const unchanged = (body: unknown) =>
    Effect.gen(function*() {
      const result = yield* reviewWith(body)
      assert.deepStrictEqual(result.review["response"], { uid: "0f6c1d4e-1111-4222-8333-944455556666", allowed: true })
      assert.strictEqual(result.outcome, "unchanged")
    })
  const annotations = { "flyte.secrets/s0": envSecret("db-creds", "password") }

  it.effect("a Pod without the inject-flyte-secrets label: allowed, no patch", () =>
    unchanged(review(pod({ labels: {}, annotations }))))
  it.effect("a Pod whose label is not \"true\": allowed, no patch", () =>
    unchanged(review(pod({ labels: { "inject-flyte-secrets": "false" }, annotations }))))
  it.effect("a labelled Pod without secret annotations: allowed, no patch", () => unchanged(review(pod())))
  it.effect.each(["UPDATE", "DELETE", "CONNECT"])("operation %s: allowed unchanged", (operation) =>
    unchanged(review(pod({ annotations }), { operation })))
  it.effect("a sub-resource (pods/ephemeralcontainers): allowed unchanged", () =>
    unchanged(review(pod({ annotations }), { subResource: "ephemeralcontainers" })))
})

describe("names the result carries for logs and metrics", () => {
  it.effect("request.namespace is used when the object has none; the object's own wins otherwise", () =>
    Effect.gen(function*() {
      const bare = pod({ annotations: { "flyte.secrets/s0": envSecret("g", "k") }, metadata: { namespace: undefined } })
      const fromRequest = yield* reviewWith(review(bare, { namespace: "from-request" }))
      assert.strictEqual(fromRequest.namespace, "from-request")
      const fromObject = yield* reviewWith(review(labelledPod, { namespace: "from-request" }))
      assert.strictEqual(fromObject.namespace, "flytesnacks-development")
    }))

  it.effect("a Pod with generateName and no name is named \"<generateName>*\"", () =>
    Effect.gen(function*() {
      const generated = pod({ metadata: { name: undefined, generateName: "task-abc-" } })
      const result = yield* reviewWith(review(generated))
      assert.strictEqual(result.pod, "task-abc-*")
      assert.strictEqual((yield* reviewWith(review(pod()))).pod, "task-pod")
    }))
})

describe("denials and warnings", () => {
  it.effect("a malformed annotation: denied (403), the message names the annotation", () =>
    Effect.gen(function*() {
      const bad = pod({ annotations: { "flyte.secrets/s0": envSecret("g", "k"), "flyte.secrets/s7": "not base32!" } })
      const result = yield* reviewWith(review(bad))
      const response = responseOf(result.review)
      assert.strictEqual(response["allowed"], false)
      assert.isUndefined(response["patch"])
      const status = response["status"] as Json
      assert.strictEqual(status["code"], 403)
      assert.strictEqual(status["reason"], "Forbidden")
      assert.match(String(status["message"]), /^flyte-pod-webhook: flyte\.secrets\/s7: invalid base32 character " " at position 3/)
      assert.strictEqual(result.outcome, "denied")
    }))

  it.effect.each([["no spec", undefined], ["no containers", {}], ["an empty container list", { containers: [] }]])(
    "a labelled Pod asking for a secret with %s: denied, never admitted without it",
    ([, spec]) =>
      Effect.gen(function*() {
        const object = Object.fromEntries(
          Object.entries({ ...labelledPod, spec }).filter(([key]) => key !== "spec" || spec !== undefined)
        )
        const result = yield* reviewWith(review(object))
        const response = responseOf(result.review)
        assert.strictEqual(response["allowed"], false)
        assert.isUndefined(response["patch"])
        assert.strictEqual(
          (response["status"] as Json)["message"],
          "flyte-pod-webhook: the Pod has no spec.containers to inject secrets into"
        )
        assert.strictEqual(result.outcome, "denied")
      })
  )

  it.effect("an unknown protobuf field is ignored with a warning naming the annotation; the secret is injected", () =>
    Effect.gen(function*() {
      const text = 'group: "db-creds"\nkey: "password"\nmount_requirement: ENV_VAR\nfuture_field: "x"\n'
      const result = yield* reviewWith(review(pod({ annotations: { "flyte.secrets/s3": encodeString(text) } })))
      const response = responseOf(result.review)
      assert.strictEqual(response["allowed"], true)
      assert.deepStrictEqual(patchOf(result.review), dbCredsOps)
      const warnings = response["warnings"] as ReadonlyArray<string>
      assert.lengthOf(warnings, 1)
      assert.match(warnings[0]!, /^flyte\.secrets\/s3: .*future_field/)
    }))

  const unservable = pod({
    annotations: { "flyte.secrets/s0": encodeSecret(secret({ group: "db-creds", key: "password", mountRequirement: "ENV_VAR" })) }
  })
  const awsOnly = configDoc({ secretManagerType: "AWS" })
  const reason = "flyte-pod-webhook: cannot inject secret \"db-creds/password\" from annotation flyte.secrets/s0 " +
    "(Global: no env FLYTE_SECRET_DB-CREDS_PASSWORD and no file /nonexistent/flyte-pod-webhook-test/secrets/db-creds/password; " +
    "AWS: mount requirement ENV_VAR is not supported (use FILE or ANY))"

  it.effect("a secret no manager can inject: denied, naming annotation, secret and each manager's reason", () =>
    Effect.gen(function*() {
      const result = yield* reviewWith(review(unservable), awsOnly)
      assert.deepStrictEqual(result.review["response"], {
        uid: "0f6c1d4e-1111-4222-8333-944455556666",
        allowed: false,
        status: { code: 403, reason: "Forbidden", message: reason }
      })
      assert.strictEqual(result.outcome, "denied")
      assert.strictEqual(result.message, reason)
      assert.deepStrictEqual(result.managers, [{ manager: "AWS", ok: false }])
    }))

  it.effect("onInjectionError admit: allowed without a patch, with a warning (Flyte 1's behaviour)", () =>
    Effect.gen(function*() {
      const result = yield* reviewWith(review(unservable), configDoc({ secretManagerType: "AWS", onInjectionError: "admit" }))
      assert.deepStrictEqual(result.review["response"], {
        uid: "0f6c1d4e-1111-4222-8333-944455556666",
        allowed: true,
        warnings: [`${reason}; admitted without secrets (webhook.onInjectionError: admit)`]
      })
      assert.strictEqual(result.outcome, "error")
    }))
})

describe("a Global secret value reaches the Pod and nothing else", () => {
  const value = "sup3r-s3cret-VALUE"
  const env = { "FLYTE_SECRET_API_TOKEN": value }
  const withoutPatch = (answer: { readonly [key: string]: unknown }) =>
    JSON.stringify({ ...answer, response: { ...responseOf(answer), patch: undefined } })

  it.effect("patched: the value is only in the env op; audit annotation and result list names", () =>
    Effect.gen(function*() {
      const p = pod({ annotations: { "flyte.secrets/s0": encodeSecret(secret({ group: "api", key: "token" })) } })
      const result = yield* reviewWith(review(p), configDoc(), env)
      assert.deepStrictEqual(patchOf(result.review), [
        add("/spec/containers/0/env", [prefixEnv, { name: "_FSEC_API_TOKEN", value }])
      ])
      assert.deepStrictEqual(responseOf(result.review)["auditAnnotations"], { "injected-secrets": "api/token" })
      assert.notInclude(withoutPatch(result.review), value)
      assert.notInclude(JSON.stringify({ ...result, review: undefined }), value)
    }))

  it.effect("denied for another secret: the found value appears nowhere in the answer", () =>
    Effect.gen(function*() {
      const p = pod({
        annotations: {
          "flyte.secrets/s0": encodeSecret(secret({ group: "api", key: "token" })),
          "flyte.secrets/s1": encodeSecret(secret({ group: "missing", key: "k", mountRequirement: "ENV_VAR" }))
        }
      })
      for (const onInjectionError of ["deny", "admit"]) {
        const result = yield* reviewWith(review(p), configDoc({ secretManagerType: "AWS", onInjectionError }), env)
        assert.isUndefined(responseOf(result.review)["patch"])
        assert.notInclude(JSON.stringify(result), value)
      }
    }))
})

describe("bodies that are not an AdmissionReview we can answer: BadReview, uid kept when known", () => {
  const bad = (body: unknown) =>
    reviewWith(body).pipe(
      Effect.flip,
      Effect.flatMap((e) => (e._tag === "BadReview" ? Effect.succeed(e) : Effect.die(e)))
    )

  it.effect("not an object", () =>
    Effect.gen(function*() {
      const e = yield* bad([1, 2])
      assert.strictEqual(e._tag, "BadReview")
      assert.strictEqual(e.message, "body is not a JSON object")
      assert.isUndefined(e.uid)
    }))
  it.effect("wrong apiVersion: the uid and apiVersion are kept", () =>
    Effect.gen(function*() {
      const e = yield* bad(review(pod(), { apiVersion: "admission.k8s.io/v2", uid: "u-1" }))
      assert.strictEqual(e.uid, "u-1")
      // The answer can only be in a version the webhook speaks: v1.
      assert.strictEqual(e.apiVersion, "admission.k8s.io/v1")
      assert.strictEqual(
        e.message,
        'apiVersion: Expected "admission.k8s.io/v1" | "admission.k8s.io/v1beta1", got "admission.k8s.io/v2"'
      )
    }))
  it.effect("wrong kind", () =>
    Effect.gen(function*() {
      const e = yield* bad({ ...review(pod(), { uid: "u-2" }), kind: "Pod" })
      assert.strictEqual(e.uid, "u-2")
      assert.strictEqual(e.message, 'kind: Expected "AdmissionReview", got "Pod"')
    }))
  it.effect("missing request.uid", () =>
    Effect.gen(function*() {
      const body = review(pod())
      delete (body["request"] as Json)["uid"]
      const e = yield* bad(body)
      assert.strictEqual(e.message, "request.uid is missing")
      assert.isUndefined(e.uid)
    }))
  it.effect("fields of the wrong type, and a 6 MB value quoted only in part", () =>
    Effect.gen(function*() {
      const body: Json = { ...review(pod(), { uid: "u-3" }), apiVersion: "v".repeat(6_000_000) }
      ;(body["request"] as Json)["dryRun"] = "yes"
      const e = yield* bad(body)
      assert.strictEqual(e.uid, "u-3")
      assert.strictEqual(
        e.message,
        `apiVersion: Expected "admission.k8s.io/v1" | "admission.k8s.io/v1beta1", got "${"v".repeat(63)}...(6000002 characters); ` +
          'request.dryRun: Expected boolean, got "yes"'
      )
    }))
  it.effect("missing request", () =>
    Effect.gen(function*() {
      const e = yield* bad({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" })
      assert.strictEqual(e.message, "request is missing")
    }))
})

describe("the shared fixture: a real flytepropeller task Pod", () => {
  it.effect("db-creds/password as ENV_VAR through K8s, appended after the existing env", () =>
    Effect.gen(function*() {
      const body = JSON.parse(fs.readFileSync(new URL("../../bench/flyte-task-pod-review.json", import.meta.url), "utf8"))
      const result = yield* reviewWith(body)
      const response = responseOf(result.review)
      assert.strictEqual(result.review["apiVersion"], "admission.k8s.io/v1")
      assert.strictEqual(response["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002")
      assert.strictEqual(response["allowed"], true)
      assert.strictEqual(response["patchType"], "JSONPatch")
      assert.deepStrictEqual(patchOf(result.review), [
        {
          op: "add",
          path: "/spec/containers/0/env/-",
          value: { name: "_FSEC_DB-CREDS_PASSWORD", valueFrom: { secretKeyRef: { name: "db-creds", key: "password", optional: true } } }
        },
        { op: "add", path: "/spec/containers/0/env/-", value: { name: "FLYTE_SECRETS_ENV_PREFIX", value: "_FSEC_" } }
      ])
      assert.deepStrictEqual(response["auditAnnotations"], { "injected-secrets": "db-creds/password" })
      assert.isUndefined(response["warnings"])
      assert.strictEqual(result.pod, "task-abc-n0-0")
      assert.strictEqual(result.namespace, "flytesnacks-development")
    }))
})

describe("a mount that cannot be added is a denial, never a silently missing secret", () => {
  const fileSecret = encodeSecret(secret({ group: "arn:aws:secretsmanager:us-east-2:12345:secret:db", key: "pw" }))
  const podWithMount = (mountPath: string) =>
    pod({
      annotations: { "flyte.secrets/s0": fileSecret },
      spec: {
        containers: [{ name: "main", image: "busybox", volumeMounts: [{ name: "user-vol", mountPath }] }],
        volumes: [{ name: "user-vol", emptyDir: {} }]
      }
    })

  it.effect("the secrets folder is already taken by another volume: denied, naming container and volumes", () =>
    Effect.gen(function*() {
      const result = yield* reviewWith(review(podWithMount("/etc/flyte/secrets")), configDoc({ secretManagerType: "AWS" }))
      const response = responseOf(result.review)
      assert.strictEqual(response["allowed"], false)
      assert.strictEqual(result.outcome, "denied")
      assert.include(
        String((response["status"] as Json)["message"]),
        'container "main" already mounts volume "user-vol" at /etc/flyte/secrets, where volume "aws-secret-vol" must go'
      )
    }))

  it.effect("another path: patched as usual", () =>
    Effect.gen(function*() {
      const result = yield* reviewWith(review(podWithMount("/data")), configDoc({ secretManagerType: "AWS" }))
      assert.strictEqual(result.outcome, "patched")
    }))
})

describe("review is an Effect: the engine works when it is run, not when it is asked for", () => {
  // The HTTP layer asks for the review, then runs it once it holds a slot: a review refused at capacity (429)
  // must cost no engine work.
  it.effect("asking runs no manager; running runs each once", () =>
    Effect.gen(function*() {
      let calls = 0
      const counting: SecretManager = {
        type: "Counting",
        inject: () => {
          calls++
          return notFound("counted")
        }
      }
      const layer = Mutator.layerNoDeps.pipe(
        Layer.provide([SecretLookup.layerTest([counting]), Patcher.layer]),
        Layer.provide(WebhookConfig.layerTest(configDoc()))
      )
      const mutator = yield* Effect.provide(Effect.service(Mutator), layer)
      const annotations = { "flyte.secrets/s0": encodeSecret(secret({ group: "db-creds", key: "password" })) }
      const asked = mutator.review(review(pod({ annotations })))
      assert.strictEqual(calls, 0)
      const result = yield* asked
      assert.strictEqual(calls, 1)
      assert.strictEqual(result.outcome, "denied")
    }))
})
