/**
 * Scenario 10: every install variant in deploy/ (the kustomize base, the HA and GitOps overlays, the base with the
 * NetworkPolicy component, and the Helm chart rendered by `helm template` in its default, HA, GitOps and
 * NetworkPolicy forms, all via deploy/render.sh with the
 * kubectl and helm built from their Go modules) applies to the real API server with a server-side dry run:
 * every object passes the API server's schema (strict field validation), defaulting and admission.
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

const Variants = [
  "kustomize-base", "kustomize-ha", "kustomize-gitops", "kustomize-network-policy",
  "helm-default", "helm-ha", "helm-gitops", "helm-network-policy"
]

describeE2e("scenario 10: every manifest in deploy/ applies with a server-side dry run", () => {
  let api: Api
  let out: string
  let namespace: string
  showLogsOnFailure(() => [])

  beforeAll(async () => {
    api = adminApi()
    const dir = fileDir("manifests")
    // The GitOps variants own the webhook's registration: a live one (another file's leftover) would conflict.
    const leftover = await api.request("GET", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/flyte-pod-webhook")
    assert.strictEqual(leftover.status, 404, "another test file left the flyte-pod-webhook registration behind")
    namespace = uniqueName("deploy")
    await api.createNamespace(namespace)
    out = path.join(dir, "rendered")
    const ctx = control()
    await must("bash", [path.join(RepoRoot, "deploy", "render.sh"), out, namespace], {
      env: { ...process.env, KUBECTL: path.join(ctx.binDir, "kubectl"), HELM: path.join(ctx.binDir, "helm") } as Record<string, string>,
      timeoutMs: 120_000
    })
  })
  afterAll(() => api?.close())

  it.each(Variants)("%s", async (variant) => {
    const file = path.join(out, `${variant}.yaml`)
    const objects = YAML.parseAllDocuments(fs.readFileSync(file, "utf8")).map((d) => d.toJS()).filter((o) => o !== null)
    assert.isAbove(objects.length, 5, `${variant} renders the install's objects`)
    // GitOps: the registration and its cainjector-enabled Secret are manifests, and the webhook has no ClusterRole
    const kinds = variant.endsWith("gitops") ? ["MutatingWebhookConfiguration", "Secret"]
      : variant.endsWith("network-policy") ? ["ClusterRole", "NetworkPolicy"] : ["ClusterRole"]
    for (const kind of ["Deployment", "Service", "ServiceAccount", "Role", "Job", ...kinds]) {
      assert.isTrue(objects.some((o: ApiJson) => o.kind === kind), `${variant} has a ${kind}`)
    }
    if (variant.endsWith("gitops")) assert.isFalse(objects.some((o: ApiJson) => o.kind === "ClusterRole" && o.metadata.name === "flyte-pod-webhook"))
    const ran = await kubectl(control().binDir, control().admin.kubeconfig, [
      "apply", "--server-side", "--dry-run=server", "--validate=strict", "-f", file
    ])
    assert.strictEqual(ran.code, 0, describeRun(`kubectl apply --server-side --dry-run=server ${variant}`, ran))
    const applied = ran.stdout.split("\n").filter((line) => /serverside-applied \(server dry run\)$/.test(line))
    assert.strictEqual(applied.length, objects.length, `every object applied:\n${ran.stdout}`)
  })
})
