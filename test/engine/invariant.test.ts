/**
 * The engine's invariant (issue 12, docs/flyte-compat.md "Never a silently missing secret"): after admission every
 * FILE secret is a file at the path flytekit reads in every container and init container of the Pod, and every
 * ENV_VAR secret is an env var holding our value; otherwise the Pod is denied naming the conflict, or admitted with
 * a warning under `onInjectionError: admit`. One example per case the differential run against Flyte found, with
 * the ops written out by hand.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { encodeSecret } from "../../src/domain/SecretAnnotation.ts"
import type { SecretRequest } from "../../src/domain/SecretRequest.ts"
import { configDoc, secret } from "../fixtures/Engine.ts"
import { add, AwsImage, DIR, defaultResources, dirEnv, filePrefixEnv, prefixEnv } from "../fixtures/Expected.ts"
import { reviewWith } from "../fixtures/Mutators.ts"
import { type Json, patchOf, pod, responseOf, review } from "../fixtures/Pods.ts"

const DbCredsVolume = "mrrc1y2smvshgxy" // B32("db-creds_"), Flyte's name for the Secret db-creds
const dbPassword = secret({ group: "db-creds", key: "password", mountRequirement: "FILE" })
const ourDbVolume = (name: string) => ({
  name,
  secret: { secretName: "db-creds", items: [{ key: "password", path: "password" }], optional: true }
})
const ourDbMount = (name: string) => ({ name, readOnly: true, mountPath: `${DIR}/db-creds` })

const answer = (spec: Json, secrets: ReadonlyArray<SecretRequest>, webhook: Record<string, unknown> = {}) => {
  const annotations = Object.fromEntries(secrets.map((s, i) => [`flyte.secrets/s${i}`, encodeSecret(s)]))
  return Effect.runSync(reviewWith(review(pod({ annotations, spec })), configDoc(webhook)))
}
const messageOf = (result: { readonly review: { readonly [key: string]: unknown } }) =>
  String((responseOf(result.review)["status"] as Json | undefined)?.["message"])

describe("1. a user volume on the same Secret, mounted elsewhere: the secret gets a volume of our own", () => {
  it("items other than ours, mounted at /mnt/creds: left as it was; ours mounted at /etc/flyte/secrets/db-creds", () => {
    const result = answer({
      containers: [{ name: "main", image: "flytekit", volumeMounts: [{ name: "creds", mountPath: "/mnt/creds" }] }],
      volumes: [{ name: "creds", secret: { secretName: "db-creds", items: [{ key: "other", path: "other" }] } }]
    }, [dbPassword])
    assert.deepStrictEqual(patchOf(result.review), [
      add("/spec/volumes/-", ourDbVolume(DbCredsVolume)),
      add("/spec/containers/0/env", [dirEnv, filePrefixEnv]),
      add("/spec/containers/0/volumeMounts/-", ourDbMount(DbCredsVolume))
    ])
  })

  it("without items and mounted nowhere: still a volume of our own (the user's one is not touched)", () => {
    const result = answer({
      containers: [{ name: "main", image: "flytekit" }],
      volumes: [{ name: "creds", secret: { secretName: "db-creds" } }]
    }, [dbPassword])
    assert.deepStrictEqual(patchOf(result.review), [
      add("/spec/volumes/-", ourDbVolume(DbCredsVolume)),
      add("/spec/containers/0/env", [dirEnv, filePrefixEnv]),
      add("/spec/containers/0/volumeMounts", [ourDbMount(DbCredsVolume)])
    ])
  })
})

describe("a mount of our volume already in place, the volume itself missing (found by the invariant property)", () => {
  it("the volume is added, so the mount the Pod has is not of a missing volume", () => {
    const result = answer({
      containers: [{ name: "main", image: "flytekit", volumeMounts: [ourDbMount(DbCredsVolume)] }]
    }, [dbPassword])
    assert.deepStrictEqual(patchOf(result.review), [
      add("/spec/volumes", [ourDbVolume(DbCredsVolume)]),
      add("/spec/containers/0/env", [dirEnv, filePrefixEnv])
    ])
  })
})

describe("2. a volume name already taken by a volume that is not ours is never reused", () => {
  it("K8s: an emptyDir named like our secret volume: ours is <name>-1", () => {
    const result = answer({
      containers: [{ name: "main", image: "flytekit", volumeMounts: [{ name: DbCredsVolume, mountPath: "/scratch" }] }],
      volumes: [{ name: DbCredsVolume, emptyDir: {} }]
    }, [dbPassword])
    assert.deepStrictEqual(patchOf(result.review), [
      add("/spec/volumes/-", ourDbVolume(`${DbCredsVolume}-1`)),
      add("/spec/containers/0/env", [dirEnv, filePrefixEnv]),
      add("/spec/containers/0/volumeMounts/-", ourDbMount(`${DbCredsVolume}-1`))
    ])
  })

  it("K8s: the same emptyDir mounted nowhere: still not ours", () => {
    const result = answer({ containers: [{ name: "main", image: "flytekit" }], volumes: [{ name: DbCredsVolume, emptyDir: {} }] }, [dbPassword])
    assert.deepStrictEqual(patchOf(result.review)?.[0], add("/spec/volumes/-", ourDbVolume(`${DbCredsVolume}-1`)))
  })

  it("AWS: a user's aws-secret-vol mounted at /data: the puller and the containers use aws-secret-vol-1", () => {
    const group = "arn:aws:secretsmanager:us-east-1:123456789012:secret"
    const result = answer({
      containers: [{ name: "main", image: "flytekit", volumeMounts: [{ name: "aws-secret-vol", mountPath: "/data" }] }],
      volumes: [{ name: "aws-secret-vol", emptyDir: {} }]
    }, [secret({ group, key: "pw" })], { secretManagerType: "AWS" })
    assert.deepStrictEqual(patchOf(result.review), [
      add("/spec/volumes/-", { name: "aws-secret-vol-1", emptyDir: { medium: "Memory" } }),
      add("/spec/initContainers", [{
        name: "aws-pull-secret-0",
        image: AwsImage,
        resources: defaultResources,
        env: [{ name: "SECRET_ARN", value: `${group}:pw` }, { name: "SECRET_FILENAME", value: `/${group}/pw` }, dirEnv, filePrefixEnv],
        volumeMounts: [{ name: "aws-secret-vol-1", mountPath: "/tmp" }]
      }]),
      add("/spec/containers/0/env", [dirEnv, filePrefixEnv]),
      add("/spec/containers/0/volumeMounts/-", { name: "aws-secret-vol-1", readOnly: true, mountPath: DIR })
    ])
  })
})

describe("3. a group that cannot name a Kubernetes Secret is denied under K8s; other managers' paths are cleaned", () => {
  it.each([
    ["./db-creds", "FILE"],
    ["team/db/", "FILE"],
    ["DB-Creds", "ENV_VAR"],
    ["a".repeat(254), "ANY"]
  ] as const)("K8s group %j (%s): denied, saying why", (group, mountRequirement) => {
    const result = answer({ containers: [{ name: "main", image: "flytekit" }] }, [secret({ group, key: "password", mountRequirement })])
    assert.strictEqual(responseOf(result.review)["allowed"], false)
    assert.include(
      messageOf(result),
      `K8s: group ${JSON.stringify(group)} cannot name a Kubernetes Secret (lower-case letters, digits, "-" and ".", ` +
        "starting and ending with a letter or digit, at most 253 characters)"
    )
  })

  it("K8s key that cannot be a key of a Secret: denied, saying why", () => {
    const result = answer({ containers: [{ name: "main", image: "flytekit" }] }, [secret({ group: "db-creds", key: "pass/word" })])
    assert.include(messageOf(result), 'K8s: key "pass/word" cannot name a key of a Kubernetes Secret (letters, digits, "-", "_" and ".", at most 253 characters)')
  })

  const opValue = (result: ReturnType<typeof answer>, path: string) =>
    (patchOf(result.review) ?? []).find((op) => op["path"] === path)?.["value"] as Json

  it("AWS: SECRET_FILENAME is cleaned as Go's filepath.Join cleans it", () => {
    const result = answer({ containers: [{ name: "main", image: "flytekit" }] }, [secret({ group: "arn:team/db/", key: "Password" })], {
      secretManagerType: "AWS"
    })
    const puller = (opValue(result, "/spec/initContainers") as unknown as ReadonlyArray<Json>)[0]!
    assert.deepStrictEqual((puller["env"] as ReadonlyArray<Json>)[1], { name: "SECRET_FILENAME", value: "/arn:team/db/password" })
  })

  it("GCP: the folder and file in the gcloud command are cleaned", () => {
    const result = answer({ containers: [{ name: "main", image: "flytekit" }] }, [secret({ group: "team/db/", groupVersion: "Latest" })], {
      secretManagerType: "GCP"
    })
    const puller = (opValue(result, "/spec/initContainers") as unknown as ReadonlyArray<Json>)[0]!
    assert.deepStrictEqual((puller["command"] as ReadonlyArray<string>)[2], "gcloud secrets versions access team/db//versions/Latest " +
      "--out-file=/etc/flyte/secrets/team/db/latest || gcloud secrets versions access Latest --secret=team/db/ " +
      "--out-file=/etc/flyte/secrets/team/db/latest; chmod +rX /etc/flyte/secrets/team/db /etc/flyte/secrets/team/db/latest")
  })

  it("Vault: the agent's file name is cleaned", () => {
    const result = answer({ containers: [{ name: "main", image: "flytekit" }] }, [secret({ group: "secret/data//app/", groupVersion: "kv2", key: "token" })], {
      secretManagerType: "Vault"
    })
    const files = (patchOf(result.review) ?? []).filter((op) => String(op["path"]).includes("agent-inject-file-"))
    assert.deepStrictEqual(files.map((op) => op["value"]), ["secret/data/app/token"])
  })
})

describe("a Pod's own env var of the same name shadows the secret: a conflict, never counted as injected", () => {
  const spec = {
    containers: [{ name: "main", image: "flytekit", env: [{ name: "_FSEC_DB-CREDS_PASSWORD", value: "set-by-user" }] }]
  }
  const envPassword = secret({ group: "db-creds", key: "password", mountRequirement: "ENV_VAR" })

  it("deny (the default): the message names the secret, the container and the env var", () => {
    const result = answer(spec, [envPassword])
    assert.strictEqual(responseOf(result.review)["allowed"], false)
    assert.strictEqual(result.outcome, "denied")
    assert.strictEqual(
      messageOf(result),
      'flyte-pod-webhook: secret "db-creds/password" from annotation flyte.secrets/s0 would not reach the Pod: ' +
        'container "main" sets env var _FSEC_DB-CREDS_PASSWORD itself'
    )
  })

  it("admit: the rest is injected; audit lists it under shadowed-secrets, not injected-secrets", () => {
    const fine = secret({ group: "other", key: "k", mountRequirement: "ENV_VAR" })
    const result = answer(spec, [envPassword, fine], { onInjectionError: "admit" })
    const response = responseOf(result.review)
    assert.strictEqual(response["allowed"], true)
    assert.deepStrictEqual(patchOf(result.review), [
      add("/spec/containers/0/env/-", prefixEnv),
      add("/spec/containers/0/env/-", { name: "_FSEC_OTHER_K", valueFrom: { secretKeyRef: { name: "other", key: "k", optional: true } } })
    ])
    assert.deepStrictEqual(response["auditAnnotations"], { "injected-secrets": "other/k", "shadowed-secrets": "db-creds/password" })
    assert.deepStrictEqual(response["warnings"], [
      'flyte-pod-webhook: secret "db-creds/password" from annotation flyte.secrets/s0 would not reach the Pod: ' +
        'container "main" sets env var _FSEC_DB-CREDS_PASSWORD itself; admitted without it (webhook.onInjectionError: admit)'
    ])
    assert.deepStrictEqual(result.shadowed, ["db-creds/password"])
  })

  it("the same definition as ours (a Pod mutated before) is not a conflict", () => {
    const ours = { name: "_FSEC_DB-CREDS_PASSWORD", valueFrom: { secretKeyRef: { key: "password", name: "db-creds", optional: true } } }
    const result = answer({ containers: [{ name: "main", image: "flytekit", env: [ours, prefixEnv] }] }, [envPassword])
    assert.deepStrictEqual(responseOf(result.review)["allowed"], true)
    assert.isUndefined(patchOf(result.review))
    assert.deepStrictEqual(responseOf(result.review)["auditAnnotations"], { "injected-secrets": "db-creds/password" })
  })
})
