/**
 * deploy/examples: each example Pod, with its config, is patched by the manager it is meant for, and the run
 * pasted into docs/engine.md is what the engine prints today (so the README never shows stale output).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, JsonPatch, Layer, type Schema } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import * as YAML from "yaml"
import { Mutator } from "../../src/admission/Mutator.ts"
import { WebhookConfig } from "../../src/WebhookConfig.ts"
import { patchOf, review } from "../fixtures/Pods.ts"

const repo = path.resolve(import.meta.dirname, "../..")
const read = (file: string) => fs.readFileSync(path.join(repo, file), "utf8")

/** mutateExample runs an example as `mutate --config <config> <example>` does, from the repository root. */
const mutateExample = (example: string, config: string | undefined) =>
  Effect.gen(function*() {
    const settings = yield* WebhookConfig.load(config === undefined ? undefined : path.join(repo, config))
    // The global example's folder is relative to the repository root, where the examples are run.
    const absolute = { ...settings, secrets: { ...settings.secrets, secretsPrefix: path.resolve(repo, settings.secrets.secretsPrefix) } }
    const pod = YAML.parse(read(example))
    const result = yield* Mutator.use((m) => m.review(review(pod))).pipe(
      Effect.provide(Mutator.layer.pipe(Layer.provide(Layer.succeed(WebhookConfig, { ...absolute, globalEnv: new Map() }))))
    )
    return { pod, result }
  })

describe("deploy/examples: one Pod per manager", () => {
  it.effect.each([
    ["k8s-env", undefined, "K8s"],
    ["k8s-file", undefined, "K8s"],
    ["global", "deploy/examples/config/global.yaml", "Global"],
    ["aws", "deploy/examples/config/aws.yaml", "AWS"],
    ["gcp", "deploy/examples/config/gcp.yaml", "GCP"],
    ["vault", "deploy/examples/config/vault.yaml", "Vault"],
    ["azure", "deploy/examples/config/azure.yaml", "Azure"]
  ] as const)("%s.yaml is patched by %s", ([name, config, manager]) =>
    Effect.gen(function*() {
      const { result } = yield* mutateExample(`deploy/examples/${name}.yaml`, config)
      assert.strictEqual(result.outcome, "patched")
      assert.isTrue(result.managers.length > 0 && result.managers.every((m) => m.ok && m.manager === manager), JSON.stringify(result.managers))
      assert.include(read(`deploy/examples/${name}.yaml`), `# Try it: npx flyte-pod-webhook mutate ${config === undefined ? "" : `--config ${config} `}deploy/examples/${name}.yaml`)
    }))

  it.effect("the Vault run pasted into docs/engine.md is the output of today's engine", () =>
    Effect.gen(function*() {
      const doc = read("docs/engine.md")
      const command = "$ npx flyte-pod-webhook mutate --config deploy/examples/config/vault.yaml deploy/examples/vault.yaml\n"
      const start = doc.indexOf(command)
      assert.isAbove(start, -1, "docs/engine.md shows the Vault run")
      const pasted = JSON.parse(doc.slice(start + command.length, doc.indexOf("```", start)))
      const { pod, result } = yield* mutateExample("deploy/examples/vault.yaml", "deploy/examples/config/vault.yaml")
      const ops = (patchOf(result.review) ?? []) as unknown as JsonPatch.JsonPatch
      assert.deepStrictEqual(JsonPatch.apply(ops, pod as Schema.Json), pasted)
    }))
})
