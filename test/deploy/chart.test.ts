/**
 * The Helm chart as written (no helm needed): metadata, hardened defaults in values.yaml, and a values schema
 * that refuses the self-injection label and out-of-range registration settings. rendered.test.ts renders it.
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import * as YAML from "yaml"
import { chartDir } from "./Manifests.ts"

const read = (file: string) => fs.readFileSync(path.join(chartDir, file), "utf8")
const values = YAML.parse(read("values.yaml")) as Record<string, unknown>
const schema = JSON.parse(read("values.schema.json")) as { properties: Record<string, Record<string, unknown>> }
const packageJson = JSON.parse(fs.readFileSync(path.join(chartDir, "../../../package.json"), "utf8")) as { version: string }

describe("deploy/helm/flyte-pod-webhook", () => {
  it("is a v2 application chart at the package's version", () => {
    const chart = YAML.parse(read("Chart.yaml")) as Record<string, unknown>
    assert.strictEqual(chart["apiVersion"], "v2")
    assert.strictEqual(chart["name"], "flyte-pod-webhook")
    assert.strictEqual(chart["type"], "application")
    assert.strictEqual(chart["appVersion"], packageJson.version)
  })

  it("defaults to the base's hardening, registration and capacity settings", () => {
    assert.deepStrictEqual(values["podSecurityContext"], {
      runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: "RuntimeDefault" }
    })
    assert.deepStrictEqual(values["containerSecurityContext"], {
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" }
    })
    assert.deepStrictEqual(values["podLabels"], {})
    assert.strictEqual(values["failurePolicy"], "Fail")
    assert.strictEqual(values["timeoutSeconds"], 10)
    assert.strictEqual(values["replicaCount"], 2)
    assert.isAbove(30, (values["drainDelaySeconds"] as number) + (values["shutdownTimeoutSeconds"] as number))
    const resources = values["resources"] as { requests: Record<string, string>; limits: Record<string, string> }
    assert.hasAllKeys(resources.requests, ["cpu", "memory"])
    assert.hasAllKeys(resources.limits, ["cpu", "memory"])
  })

  it("has a values schema that refuses the injection label on its own pods and bad registration settings", () => {
    assert.deepStrictEqual(schema.properties["podLabels"]?.["not"], { required: ["inject-flyte-secrets"] })
    assert.deepStrictEqual(schema.properties["failurePolicy"], { enum: ["Fail", "Ignore"] })
    assert.deepStrictEqual(schema.properties["timeoutSeconds"], { type: "integer", minimum: 1, maximum: 30 })
    for (const key of Object.keys(values)) assert.property(schema.properties, key, `values.${key} has a schema entry`)
  })

  it("templates never label a pod for injection and quote every namespace from the release", () => {
    const templates = fs.readdirSync(path.join(chartDir, "templates")).filter((f) => f !== "NOTES.txt")
    for (const file of templates) {
      const text = read(path.join("templates", file))
      if (file !== "mutatingwebhookconfiguration.yaml") assert.notInclude(text, "inject-flyte-secrets: \"true\"", file)
      assert.notMatch(text, /namespace: flyte\b/, `${file}: the namespace comes from the release`)
    }
  })
})
