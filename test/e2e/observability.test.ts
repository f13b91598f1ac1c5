/**
 * The observability pack, checked with real tools (built by test/e2e/tools/build.sh, cached with the control
 * plane):
 *  - the alert rules pass `promtool check rules` and the unit tests in test/observability/alerts.test.yaml
 *    (`promtool test rules`, promtool from github.com/prometheus/prometheus v0.316.0);
 *  - after the Prometheus Operator's CRDs (ServiceMonitor, PrometheusRule; from its Go module,
 *    example/prometheus-operator-crd) are installed, the kustomize component deploy/observability and the
 *    chart with `observability.*` enabled apply with a server-side dry run and strict field validation.
 */
import { afterAll, assert, beforeAll, it } from "vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import * as YAML from "yaml"
import type { Api } from "./harness/Api.ts"
import { adminApi, control, describeE2e, fileDir, showLogsOnFailure } from "./harness/Suite.ts"
import { describeRun, kubectl, must, RepoRoot, run } from "./harness/Tools.ts"
import { uniqueName } from "./harness/Webhook.ts"
import type { ApiJson } from "./harness/Api.ts"

const Pack = path.join(RepoRoot, "deploy", "observability")

describeE2e("observability pack: promtool rule tests, CRD dry runs", () => {
  let api: Api
  let dir: string
  let namespace: string
  showLogsOnFailure(() => [])

  beforeAll(async () => {
    api = adminApi()
    dir = fileDir("observability")
    namespace = uniqueName("observability")
    await api.createNamespace(namespace)
  })
  afterAll(() => api?.close())

  it("promtool: the rules are valid and their unit tests pass", async () => {
    const rule = YAML.parse(fs.readFileSync(path.join(Pack, "prometheusrule.yaml"), "utf8"))
    fs.writeFileSync(path.join(dir, "rules.yaml"), YAML.stringify({ groups: rule.spec.groups }))
    fs.copyFileSync(path.join(RepoRoot, "test", "observability", "alerts.test.yaml"), path.join(dir, "alerts.test.yaml"))
    const promtool = path.join(control().binDir, "promtool")
    const checked = await run(promtool, ["check", "rules", path.join(dir, "rules.yaml")])
    assert.strictEqual(checked.code, 0, describeRun("promtool check rules", checked))
    assert.match(checked.stdout, /SUCCESS: 7 rules found/)
    const tested = await run(promtool, ["test", "rules", path.join(dir, "alerts.test.yaml")], { cwd: dir })
    assert.strictEqual(tested.code, 0, describeRun("promtool test rules", tested))
    assert.match(tested.stdout, /SUCCESS/)
  })

  it("ServiceMonitor and PrometheusRule apply with a server-side dry run, from kustomize and from the chart", async () => {
    const ctx = control()
    const admin = ctx.admin.kubeconfig
    const crds = fs.readdirSync(path.join(ctx.binDir, "crds")).map((file) => path.join(ctx.binDir, "crds", file))
    assert.deepStrictEqual(crds.map((f) => path.basename(f)).sort(), ["monitoring.coreos.com_prometheusrules.yaml", "monitoring.coreos.com_servicemonitors.yaml"])
    const installed = await kubectl(ctx.binDir, admin, ["apply", "--server-side", ...crds.flatMap((f) => ["-f", f])])
    assert.strictEqual(installed.code, 0, describeRun("kubectl apply CRDs", installed))
    const established = await kubectl(ctx.binDir, admin, [
      "wait", "--for=condition=Established", "--timeout=60s",
      "crd/servicemonitors.monitoring.coreos.com", "crd/prometheusrules.monitoring.coreos.com"
    ])
    assert.strictEqual(established.code, 0, describeRun("kubectl wait CRDs", established))

    const overlay = path.join(dir, "kustomize")
    fs.mkdirSync(overlay, { recursive: true })
    fs.writeFileSync(path.join(overlay, "kustomization.yaml"), YAML.stringify({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      namespace,
      resources: [path.relative(overlay, path.join(RepoRoot, "deploy", "base"))],
      components: [path.relative(overlay, Pack)]
    }))
    const kustomized = await kubectl(ctx.binDir, admin, ["kustomize", overlay])
    assert.strictEqual(kustomized.code, 0, describeRun("kubectl kustomize", kustomized))
    const helm = await must(path.join(ctx.binDir, "helm"), [
      "template", "flyte-pod-webhook", path.join(RepoRoot, "deploy", "helm", "flyte-pod-webhook"), "--namespace", namespace,
      "--set", "observability.serviceMonitor.enabled=true", "--set", "observability.prometheusRule.enabled=true",
      "--set", "observability.dashboard.enabled=true", "--set", "observability.serviceMonitor.labels.release=monitoring"
    ])
    for (const [variant, text] of [["kustomize", kustomized.stdout], ["helm", helm.stdout]] as const) {
      const file = path.join(dir, `${variant}.yaml`)
      fs.writeFileSync(file, text)
      const objects = YAML.parseAllDocuments(text).map((d) => d.toJS()).filter((o) => o !== null)
      for (const kind of ["ServiceMonitor", "PrometheusRule"]) {
        assert.isTrue(objects.some((o: ApiJson) => o.kind === kind), `${variant} renders a ${kind}`)
      }
      const dashboard = objects.find((o: ApiJson) => o.kind === "ConfigMap" && o.metadata.labels?.grafana_dashboard === "1")
      assert.deepStrictEqual(JSON.parse(dashboard.data["flyte-pod-webhook.json"]), JSON.parse(fs.readFileSync(path.join(Pack, "dashboard.json"), "utf8")))
      const applied = await kubectl(ctx.binDir, admin, ["apply", "--server-side", "--dry-run=server", "--validate=strict", "-f", file])
      assert.strictEqual(applied.code, 0, describeRun(`kubectl apply --dry-run=server (${variant})`, applied))
      for (const kind of ["servicemonitor", "prometheusrule"]) {
        assert.match(applied.stdout, new RegExp(`^${kind}\\.monitoring\\.coreos\\.com/flyte-pod-webhook serverside-applied \\(server dry run\\)$`, "m"))
      }
    }
  })
})
