/**
 * Facts the docs repeat from the code: every config key is in the README's configuration reference, and
 * docs/deploy.md's resource figures are the ones the manifests set.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "vitest"
import * as YAML from "yaml"
import { SecretsSection, WebhookSection } from "../../src/config/WebhookSchema.ts"
import { readDoc, repoRoot } from "./DocBlocks.ts"

const section = (text: string, heading: string): string => {
  const start = text.indexOf(`\n${heading}\n`)
  assert.notStrictEqual(start, -1, heading)
  const end = text.indexOf("\n## ", start + heading.length + 2)
  return text.slice(start, end === -1 ? undefined : end)
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

describe("docs that repeat the code", () => {
  it("the README's configuration reference names every key of webhook: and secrets:", () => {
    const reference = section(readDoc("README.md"), "## Configuration reference")
    const keys = [...Object.keys(WebhookSection.fields), ...Object.keys(SecretsSection.fields)]
    const missing = keys.filter((key) => !new RegExp(`[\`.]${escape(key)}[\`/ ,.]`).test(reference))
    assert.deepStrictEqual(missing, [])
  })

  it("docs/deploy.md's resources are deploy/base's and the chart's", () => {
    const deployment = YAML.parseAllDocuments(fs.readFileSync(path.join(repoRoot, "deploy/base/deployment.yaml"), "utf8"))
      .map((d) => d.toJS() as { kind?: string; spec?: { template: { spec: { containers: ReadonlyArray<{ resources: unknown }> } } } })
      .find((d) => d.kind === "Deployment")
    const base = deployment?.spec?.template.spec.containers[0]?.resources as { requests: Record<string, string>; limits: Record<string, string> }
    const chart = (YAML.parse(fs.readFileSync(path.join(repoRoot, "deploy/helm/flyte-pod-webhook/values.yaml"), "utf8")) as { resources: unknown }).resources
    assert.deepStrictEqual(chart, base)
    const paragraph = readDoc("docs/deploy.md").split("\n\n").find((p) => p.startsWith("**Resources**")) ?? ""
    for (const [kind, values] of Object.entries(base)) {
      for (const [name, value] of Object.entries(values)) {
        const shown = /^\d+$/.test(value) ? `\`${name}: "${value}"\`` : `\`${name}: ${value}\``
        assert.include(paragraph, shown, `${kind}.${name}`)
      }
    }
  })
})
