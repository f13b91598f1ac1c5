/**
 * The invariant as a property (issue 12), over Pods built to get in their own secrets' way
 * (test/fixtures/InvariantArbitraries.ts), 1,500 runs: for every admitted Pod, every secret the answer counts as
 * injected is, in every container and init container of the Pod, an env var with our value (ENV_VAR) or a file at
 * the path flytekit reads, shown by the volume that holds it (FILE); under `deny` an admitted Pod got every secret
 * it asked for; under `admit` a secret left out is named in a warning. The oracle is written here from the contract
 * (docs/flyte-compat.md), not from the engine: flytekit's path is Python's os.path.join of the lower-cased fields.
 */
import { Effect } from "effect"
import * as fc from "fast-check"
import * as jsonpatch from "fast-json-patch"
import * as path from "node:path"
import { assert, describe, it } from "vitest"
import type { SecretRequest } from "../../src/domain/SecretRequest.ts"
import { scenario } from "../fixtures/InvariantArbitraries.ts"
import { reviewWith } from "../fixtures/Mutators.ts"
import { clone, type Json, patchOf, responseOf, review } from "../fixtures/Pods.ts"

const DIR = "/etc/flyte/secrets"
type Scenario = typeof scenario extends fc.Arbitrary<infer A> ? A : never

const arr = (value: unknown): ReadonlyArray<Json> => (Array.isArray(value) ? value : [])
const obj = (value: unknown): Json => (typeof value === "object" && value !== null ? (value as Json) : {})
const label = (s: SecretRequest) => {
  const group = s.groupVersion === "" ? s.group : `${s.group}@${s.groupVersion}`
  return s.key === "" ? group : `${group}/${s.key}`
}
const list = (value: unknown) => (typeof value === "string" && value !== "" ? value.split(",") : [])
const envValue = (c: Json, name: string): Json | undefined => arr(c["env"]).filter((e) => e["name"] === name).at(-1)
const norm = (p: string) => path.posix.normalize(p).replace(/(.)\/$/, "$1")

/** flytekitPath: os.path.join(DIR, *lowered parts), checked to resolve (in the kernel) to its normalized form. */
const flytekitPath = (parts: ReadonlyArray<string>): string => {
  let joined = DIR
  for (const part of parts.filter((p) => p !== "").map((p) => p.toLowerCase())) {
    joined = part.startsWith("/") ? part : joined.endsWith("/") ? `${joined}${part}` : `${joined}/${part}`
  }
  assert.isTrue(joined.startsWith(`${DIR}/`), `flytekit reads ${joined}, outside ${DIR}`)
  assert.notInclude(joined.split("/"), "..", `flytekit's ${joined} resolves only if every folder before ".." exists`)
  assert.isFalse(joined.endsWith("/") || joined.endsWith("/."), `flytekit's ${joined} names a folder`)
  return norm(joined)
}

/** deepestMount: the mount a container sees `file` through. */
const deepestMount = (c: Json, file: string): Json | undefined => {
  const mounts = arr(c["volumeMounts"]).map((m) => ({ m, at: norm(String(m["mountPath"])) }))
  return mounts.filter(({ at }) => file === at || file.startsWith(`${at}/`)).sort((a, b) => b.at.length - a.at.length)[0]?.m
}

const fileOf = (s: SecretRequest, manager: string): string => {
  switch (manager) {
    case "K8s":
    case "AWS":
      return flytekitPath([s.group, s.key])
    case "GCP":
      return flytekitPath([s.group, s.groupVersion])
    case "Azure":
      return flytekitPath([s.group.replace(/\/+$/, "").split("/").pop()!, s.groupVersion])
    default:
      return flytekitPath(s.key === "" ? [s.group] : [s.group, s.key])
  }
}

/** checkFile: in container `c`, `file` of secret `s` is shown by the volume that holds it. */
const checkFile = (after: Json, c: Json, s: SecretRequest, manager: string, file: string, pullers: ReadonlyArray<Json>) => {
  const spec = obj(after["spec"])
  const seen = deepestMount(c, file)
  const where = `container ${String(c["name"])}, ${label(s)} via ${manager}, ${file}`
  if (manager === "Vault") {
    if (seen !== undefined) assert.isFalse(norm(String(seen["mountPath"])).startsWith(`${DIR}/`), `${where}: hidden by ${JSON.stringify(seen)}`)
    const files = Object.entries(obj(obj(after["metadata"])["annotations"])).filter(([k]) => k.startsWith("vault.hashicorp.com/agent-inject-file-"))
    assert.include(files.map(([, v]) => v), file.slice(DIR.length + 1), where)
    return
  }
  assert.isDefined(seen, `${where}: no mount`)
  assert.isUndefined(seen!["subPath"], where)
  const volume = arr(spec["volumes"]).find((v) => v["name"] === seen!["name"])
  assert.isDefined(volume, `${where}: mount of a missing volume`)
  if (manager === "K8s") {
    assert.strictEqual(norm(String(seen!["mountPath"])), path.posix.dirname(file), where)
    assert.strictEqual(obj(volume!["secret"])["secretName"], s.group, where)
    const items = obj(volume!["secret"])["items"]
    const name = path.posix.basename(file)
    if (!Array.isArray(items)) assert.strictEqual(s.key, name, `${where}: all keys projected under their own names`)
    else {
      const there = arr(items).filter((i) => norm(String(i["path"])) === name)
      assert.isAbove(there.length, 0, `${where}: no item`)
      for (const i of there) assert.strictEqual(i["key"], s.key, `${where}: another key at the path`)
    }
    return
  }
  assert.strictEqual(norm(String(seen!["mountPath"])), DIR, where)
  assert.deepStrictEqual(volume!["emptyDir"], { medium: "Memory" }, where)
  const writes = (p: Json) =>
    manager === "AWS"
      ? arr(p["env"]).some((e) => e["name"] === "SECRET_FILENAME" && e["value"] === file.slice(DIR.length)) &&
        arr(p["volumeMounts"]).some((m) => m["name"] === volume!["name"] && m["mountPath"] === "/tmp")
      : String(arr(p["command"])[2] ?? "").includes(manager === "GCP" ? `--out-file=${file} ` : `> ${file};`) &&
        arr(p["volumeMounts"]).some((m) => m["name"] === volume!["name"] && m["mountPath"] === DIR)
  assert.isTrue(pullers.some(writes), `${where}: no puller writes it into ${String(volume!["name"])}`)
}

const checkSecret = (s: Scenario, after: Json, secret: SecretRequest, manager: string) => {
  const spec = obj(after["spec"])
  const before = obj(s.pod["spec"])
  const initCount = arr(before["initContainers"]).length
  const users = [...arr(spec["initContainers"]).slice(0, initCount), ...arr(spec["containers"])]
  const pullers = arr(spec["initContainers"]).slice(initCount)
  const env = (c: Json, name: string) => envValue(c, name) ?? {}
  const isEnv = manager === "Global" || (manager === "K8s" && secret.mountRequirement === "ENV_VAR")
  if (manager === "K8s") assert.match(secret.group, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/)
  for (const c of users) {
    if (isEnv) {
      const name = `_FSEC_${secret.group}_${secret.key}`.toUpperCase()
      assert.strictEqual(env(c, "FLYTE_SECRETS_ENV_PREFIX")["value"], "_FSEC_")
      const names = manager === "K8s" && secret.envVar !== "" ? [name, secret.envVar] : [name]
      for (const n of names) {
        if (manager === "Global") {
          assert.strictEqual(env(c, n)["value"], s.config.env[`FLYTE_SECRET_${secret.group.toUpperCase()}_${secret.key.toUpperCase()}`])
        } else {
          const ref = obj(obj(env(c, n)["valueFrom"])["secretKeyRef"])
          assert.deepStrictEqual([ref["name"], ref["key"], env(c, n)["value"]], [secret.group, secret.key, undefined], `${n} in ${String(c["name"])}`)
        }
      }
      continue
    }
    const file = fileOf(secret, manager)
    assert.strictEqual(env(c, "FLYTE_SECRETS_DEFAULT_DIR")["value"], DIR)
    assert.strictEqual(env(c, "FLYTE_SECRETS_FILE_PREFIX")["value"] ?? "", "")
    if (secret.envVar !== "" && (manager === "K8s" || manager === "AWS")) assert.strictEqual(env(c, secret.envVar)["value"], file)
    checkFile(after, c, secret, manager, file, pullers)
  }
}

/** The Pod's own volumes are left as they were, except items added to one that serves a secrets folder. */
const checkUserVolumes = (s: Scenario, after: Json) => {
  const volumes = arr(obj(after["spec"])["volumes"])
  const containers = [...arr(obj(after["spec"])["initContainers"]), ...arr(obj(after["spec"])["containers"])]
  arr(obj(s.pod["spec"])["volumes"]).forEach((v, i) => {
    const now = volumes[i]!
    if (JSON.stringify(now) === JSON.stringify(v)) return
    const secretName = String(obj(v["secret"])["secretName"])
    assert.deepStrictEqual({ ...now, secret: { ...obj(now["secret"]), items: undefined } }, { ...v, secret: { ...obj(v["secret"]), items: undefined } })
    const servesFolder = containers.some((c) =>
      arr(c["volumeMounts"]).some((m) => m["name"] === v["name"] && norm(String(m["mountPath"])) === `${DIR}/${secretName}`)
    )
    assert.isTrue(servesFolder, `volume ${String(v["name"])} changed but serves no secrets folder`)
  })
  const names = volumes.map((v) => String(v["name"]))
  assert.strictEqual(new Set(names).size, names.length, "volume names are unique")
  for (const name of names) assert.match(name, /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "a DNS label of at most 63 characters")
}

describe("the invariant over Pods that get in their secrets' way (1,500 runs)", () => {
  it("every secret counted as injected reaches every container as asked; nothing is silently missing", () => {
    let admitted = 0
    const checked = new Map<string, number>()
    fc.assert(
      fc.property(scenario, (s) => {
        const result = Effect.runSync(reviewWith(review(s.pod), s.config.document, s.config.env))
        const response = responseOf(result.review)
        if (response["allowed"] !== true) return
        admitted++
        const ops = (patchOf(result.review) ?? []) as unknown as ReadonlyArray<jsonpatch.Operation>
        const after = jsonpatch.applyPatch(clone(s.pod), ops, true).newDocument
        const audit = obj(response["auditAnnotations"])
        const injected = list(audit["injected-secrets"])
        const labels = s.order.map((i) => label(s.secrets[i]!))
        if (!s.config.admit) assert.deepStrictEqual(injected, labels, "deny: an admitted Pod has every secret it asked for")
        else if (injected.length < labels.length) assert.isAbove(arr(response["warnings"]).length, 0, "admit: a secret left out is warned about")
        for (const shadowed of list(audit["shadowed-secrets"])) assert.notInclude(injected, shadowed)
        s.order.forEach((index, position) => {
          const secret = s.secrets[index]!
          if (!injected.includes(label(secret))) return
          const use = result.managers[position]!
          assert.isTrue(use.ok)
          checkSecret(s, after, secret, use.manager)
          const env = use.manager === "Global" || (use.manager === "K8s" && secret.mountRequirement === "ENV_VAR")
          const kind = `${use.manager} ${env ? "env" : "file"}`
          checked.set(kind, (checked.get(kind) ?? 0) + 1)
        })
        checkUserVolumes(s, after)
      }),
      { numRuns: 1500 }
    )
    // The Pods must not be so hostile that nothing is ever admitted: the property would hold vacuously. Each run
    // draws a new seed, so the floor per kind is a non-vacuity guard, well below what a run sees (Global env, the
    // rarest, was checked 20 to 40 times in a run), not a target: 20 was once met exactly and failed CI.
    assert.isAbove(admitted, 300)
    for (const kind of ["Global env", "K8s env", "K8s file", "AWS file", "GCP file", "Vault file", "Azure file"]) {
      assert.isAbove(checked.get(kind) ?? 0, 5, `secrets checked per manager: ${JSON.stringify([...checked])}`)
    }
  })
})
