/**
 * The VerticalPodAutoscaler manifests against the real API server: the VPA CRDs from the Go module
 * k8s.io/autoscaler/vertical-pod-autoscaler (pinned in test/e2e/tools/vpa, fetched and cached by
 * test/e2e/tools/vpa-crd.sh) are installed, then deploy/components/vpa (beside the base and beside the HA
 * overlay, the combination docs/capacity.md recommends) and the Helm chart with `vpa.enabled` (alone and with
 * the HPA) apply with `kubectl apply --server-side --dry-run=server --validate=strict`: the VPA passes the CRD's
 * schema (enums, quantities, strict fields), and so does every other object of the install.
 */
import { afterAll, assert, beforeAll, it } from "vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import * as YAML from "yaml"
import type { Api } from "./harness/Api.ts"
import { adminApi, control, describeE2e, fileDir, showLogsOnFailure } from "./harness/Suite.ts"
import { describeRun, kubectl, must, RepoRoot } from "./harness/Tools.ts"
import { uniqueName } from "./harness/Webhook.ts"
import type { ApiJson } from "./harness/Api.ts"

const Crd = "verticalpodautoscalers.autoscaling.k8s.io"

describeE2e("the VerticalPodAutoscaler manifests apply with a server-side dry run", () => {
  let api: Api
  let dir: string
  let namespace: string
  showLogsOnFailure(() => [])

  const tool = (args: ReadonlyArray<string>, input?: string) =>
    kubectl(control().binDir, control().admin.kubeconfig, args, input === undefined ? {} : { input })

  const dryRun = async (file: string) => {
    const ran = await tool(["apply", "--server-side", "--dry-run=server", "--validate=strict", "-f", file])
    return { ran, applied: ran.stdout.split("\n").filter((line) => /serverside-applied \(server dry run\)$/.test(line)) }
  }

  /** kustomized: deploy/<resource> + components/vpa, into the test's namespace, rendered to a file. */
  const kustomized = async (name: string, resource: string): Promise<string> => {
    const overlay = path.join(dir, name)
    fs.mkdirSync(overlay, { recursive: true })
    fs.writeFileSync(path.join(overlay, "kustomization.yaml"), YAML.stringify({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      namespace,
      resources: [path.relative(overlay, path.join(RepoRoot, "deploy", resource))],
      components: [path.relative(overlay, path.join(RepoRoot, "deploy", "components", "vpa"))]
    }))
    const rendered = await tool(["kustomize", overlay])
    assert.strictEqual(rendered.code, 0, describeRun(`kubectl kustomize ${name}`, rendered))
    const file = path.join(dir, `${name}.yaml`)
    fs.writeFileSync(file, rendered.stdout)
    return file
  }

  const helmed = async (name: string, args: ReadonlyArray<string>): Promise<string> => {
    const ran = await must(path.join(control().binDir, "helm"), [
      "template", "flyte-pod-webhook", path.join(RepoRoot, "deploy", "helm", "flyte-pod-webhook"), "--namespace", namespace, ...args
    ])
    const file = path.join(dir, `${name}.yaml`)
    fs.writeFileSync(file, ran.stdout)
    return file
  }

  beforeAll(async () => {
    api = adminApi()
    dir = fileDir("vpa")
    const fetched = await must("bash", [path.join(RepoRoot, "test", "e2e", "tools", "vpa-crd.sh")], { timeoutMs: 300_000 })
    const crd = fetched.stdout.trim().split("\n").at(-1) ?? ""
    const installed = await tool(["apply", "--server-side", "-f", crd])
    assert.strictEqual(installed.code, 0, describeRun("kubectl apply (VPA CRDs)", installed))
    const established = await tool(["wait", "--for=condition=Established", "--timeout=60s", `crd/${Crd}`])
    assert.strictEqual(established.code, 0, describeRun("kubectl wait (VPA CRD established)", established))
    namespace = uniqueName("vpa")
    await api.createNamespace(namespace)
  }, 360_000)
  afterAll(() => api?.close())

  const variants: ReadonlyArray<readonly [string, () => Promise<string>]> = [
    ["kustomize base + components/vpa", () => kustomized("kustomize-base-vpa", "base")],
    ["kustomize overlays/ha + components/vpa", () => kustomized("kustomize-ha-vpa", "overlays/ha")],
    ["helm vpa.enabled", () => helmed("helm-vpa", ["--set", "vpa.enabled=true"])],
    ["helm vpa.enabled + autoscaling.enabled", () => helmed("helm-ha-vpa", ["--set", "vpa.enabled=true", "--set", "autoscaling.enabled=true"])]
  ]

  it.each(variants)("%s", async (_name, render) => {
    const file = await render()
    const objects = YAML.parseAllDocuments(fs.readFileSync(file, "utf8")).map((d) => d.toJS()).filter((o) => o !== null)
    const vpas = objects.filter((o: ApiJson) => o.kind === "VerticalPodAutoscaler")
    assert.lengthOf(vpas, 1)
    assert.deepStrictEqual(vpas[0].spec.resourcePolicy.containerPolicies[0].controlledResources, ["memory"])
    const { ran, applied } = await dryRun(file)
    assert.strictEqual(ran.code, 0, describeRun("kubectl apply --server-side --dry-run=server", ran))
    assert.strictEqual(applied.length, objects.length, `every object applied:\n${ran.stdout}`)
    assert.isTrue(applied.some((line) => line.startsWith("verticalpodautoscaler.autoscaling.k8s.io/flyte-pod-webhook ")), ran.stdout)
  })

  it("the API server holds the VPA to the CRD's schema (an unknown updateMode is refused)", async () => {
    const file = await kustomized("kustomize-bad-vpa", "base")
    const broken = fs.readFileSync(file, "utf8").replace("updateMode: Initial", "updateMode: Sometimes")
    assert.notStrictEqual(broken, fs.readFileSync(file, "utf8"))
    fs.writeFileSync(file, broken)
    const { ran } = await dryRun(file)
    assert.notStrictEqual(ran.code, 0, ran.stdout)
    assert.match(ran.stderr, /updateMode/)
  })
})
