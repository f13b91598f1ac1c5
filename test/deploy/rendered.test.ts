/**
 * The deployment as the tools render it: `kubectl kustomize` of the base and both overlays, and `helm template`
 * of the chart with its default, GitOps and HA values, each held to the same checks (Checks.ts). Runs when
 * kubectl and helm exist (built by test/e2e/tools/build.sh into .cache/e2e-bin, or KUBECTL / HELM); the raw
 * files are checked regardless (kustomize.test.ts, chart.test.ts).
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { execFileSync } from "node:child_process"
import type { WebhookConfigShape } from "../../src/WebhookConfig.ts"
import {
  byKind,
  type RegistrationGrant,
  checkDeployment,
  checkHardening,
  checkInitCerts,
  checkNetworkPolicy,
  checkNoSelfInjection,
  checkPodDisruptionBudget,
  checkCaInjection,
  checkRbac,
  checkRegistration,
  checkService,
  one,
  podTemplate
} from "./Checks.ts"
import { configOf, deployDir, helm, helmTemplate, helmTemplateError, type K8sObject, kubectl, kustomize, parseYamlStream } from "./Manifests.ts"

/** renderedConfig: the config file in the ConfigMap the webhook's pods mount. */
const renderedConfig = (objects: ReadonlyArray<K8sObject>): WebhookConfigShape => {
  const deployment = one(objects, "Deployment", "flyte-pod-webhook")
  const volume = podTemplate(deployment).spec.volumes?.find((v) => v.name === "config")
  const configMap = one(objects, "ConfigMap", volume?.configMap?.name ?? "<none>")
  return configOf((configMap["data"] as Record<string, string>)["config.yaml"] ?? "")
}

const common = (objects: ReadonlyArray<K8sObject>, mode: RegistrationGrant) => {
  const config = renderedConfig(objects)
  assert.isAtLeast(checkHardening(objects), 2)
  checkNoSelfInjection(objects)
  checkDeployment(objects, config)
  checkService(objects, config)
  checkRbac(objects, config, mode)
  checkInitCerts(objects, config)
  for (const object of objects) {
    if (object.kind === "ClusterRole" || object.kind === "ClusterRoleBinding" || object.kind === "MutatingWebhookConfiguration") continue
    assert.strictEqual(object.metadata.namespace, "flyte", `${object.kind} ${object.metadata.name} is namespaced`)
  }
  return config
}

const hpaOf = (objects: ReadonlyArray<K8sObject>) =>
  one(objects, "HorizontalPodAutoscaler", "flyte-pod-webhook")["spec"] as { minReplicas: number }
const replicasOf = (objects: ReadonlyArray<K8sObject>) =>
  (one(objects, "Deployment", "flyte-pod-webhook")["spec"] as { replicas?: number }).replicas

describe.skipIf(kubectl === undefined)("kubectl kustomize", () => {
  it("base", () => {
    const objects = kustomize("base")
    const config = common(objects, "full")
    checkPodDisruptionBudget(objects, config, { maxUnavailable: 1 })
    assert.strictEqual(byKind(objects, "MutatingWebhookConfiguration").length, 0, "the webhook registers itself")
    assert.strictEqual(byKind(objects, "Namespace").length, 0, "installs into an existing namespace")
  })

  it("overlays/ha", () => {
    const objects = kustomize("overlays/ha")
    const config = common(objects, "full")
    checkPodDisruptionBudget(objects, config, { minAvailable: 2 })
    assert.strictEqual(hpaOf(objects).minReplicas, 3)
    assert.isUndefined(replicasOf(objects), "the autoscaler owns replicas")
  })

  it("overlays/gitops: the registration is a manifest, its caBundle cainjector's, the webhook holds no grant on it", () => {
    const objects = kustomize("overlays/gitops")
    const config = common(objects, "none")
    checkCaInjection(objects, config, "flyte")
    checkRegistration(objects, "flyte")
  })

  it("base + components/network-policy, its peer replaced as the component says", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-kustomize-"))
    try {
      fs.writeFileSync(path.join(dir, "kustomization.yaml"), [
        `resources: [${path.relative(dir, path.join(deployDir, "base"))}]`,
        `components: [${path.relative(dir, path.join(deployDir, "components/network-policy"))}]`,
        "patches:",
        "  - target: {kind: NetworkPolicy, name: flyte-pod-webhook}",
        "    patch: |-",
        "      - op: replace",
        "        path: /spec/ingress/0/from",
        "        value: [{ipBlock: {cidr: 172.16.0.0/28}}]",
        ""
      ].join("\n"))
      const objects = kustomize(path.relative(deployDir, dir))
      const config = common(objects, "full")
      checkNetworkPolicy(objects, config, [{ ipBlock: { cidr: "172.16.0.0/28" } }])
      assert.strictEqual(one(objects, "NetworkPolicy", "flyte-pod-webhook").metadata.namespace, "flyte")
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("another namespace: every reference follows (bindings, and the documented replacement for the registration)", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-kustomize-"))
    try {
      const gitops = path.relative(dir, path.join(deployDir, "overlays/gitops"))
      const ns = path.relative(dir, path.join(deployDir, "components/namespace"))
      fs.writeFileSync(path.join(dir, "kustomization.yaml"), [
        "namespace: flyte-other",
        `resources: [${gitops}]`,
        `components: [${ns}]`,
        "replacements:",
        "  - source: {kind: Service, name: flyte-pod-webhook, fieldPath: metadata.namespace}",
        "    targets:",
        "      - select: {kind: MutatingWebhookConfiguration, name: flyte-pod-webhook}",
        "        fieldPaths: [webhooks.*.clientConfig.service.namespace]",
        "      - select: {kind: MutatingWebhookConfiguration, name: flyte-pod-webhook}",
        "        fieldPaths: [\"metadata.annotations.[cert-manager.io/inject-ca-from-secret]\"]",
        "        options: {delimiter: \"/\", index: 0}",
        ""
      ].join("\n"))
      const objects = kustomize(path.relative(deployDir, dir))
      assert.deepStrictEqual(byKind(objects, "Namespace").map((n) => n.metadata.name), ["flyte-other"])
      checkRegistration(objects, "flyte-other")
      checkCaInjection(objects, renderedConfig(objects), "flyte-other")
      for (const binding of [...byKind(objects, "RoleBinding"), ...byKind(objects, "ClusterRoleBinding")]) {
        for (const subject of binding["subjects"] as ReadonlyArray<{ namespace: string }>) {
          assert.strictEqual(subject.namespace, "flyte-other", binding.metadata.name)
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe.skipIf(helm === undefined)("helm template", () => {
  it("default values", () => {
    const objects = helmTemplate()
    const config = common(objects, "full")
    checkPodDisruptionBudget(objects, config, { maxUnavailable: 1 })
    assert.strictEqual(replicasOf(objects), 2)
    assert.strictEqual(byKind(objects, "MutatingWebhookConfiguration").length, 0)
    const unregister = one(objects, "Job", "flyte-pod-webhook-unregister")
    assert.strictEqual(unregister.metadata.annotations?.["helm.sh/hook"], "post-delete")
    assert.deepStrictEqual(podTemplate(unregister).spec.containers[0]?.args, ["unregister", "--config", "/etc/flyte/config/config.yaml"])
    assert.strictEqual(one(objects, "Job", "flyte-pod-webhook-secrets").metadata.annotations?.["helm.sh/hook"], "pre-install,pre-upgrade")
  })

  it("renders every object the kustomize base has, under the same kind and name", () => {
    if (kubectl === undefined) return
    const names = (objects: ReadonlyArray<K8sObject>) =>
      new Set(objects.map((o) => `${o.kind}/${o.kind === "ConfigMap" ? o.metadata.name.replace(/-[a-z0-9]{10}$/, "") : o.metadata.name}`))
    const chart = names(helmTemplate())
    for (const name of names(kustomize("base"))) assert.isTrue(chart.has(name), `the chart renders ${name}`)
  })

  it("gitops.enabled: cainjector writes the caBundle and the webhook holds no grant on any registration", () => {
    const objects = helmTemplate(["--set", "gitops.enabled=true"])
    const config = common(objects, "none")
    checkCaInjection(objects, config, "flyte")
    checkRegistration(objects, "flyte")
    assert.isFalse(objects.some((o) => o.metadata.name === "flyte-pod-webhook-unregister"), "the chart owns the object")
    const secret = one(objects, "Secret", "flyte-pod-webhook-secret")
    assert.strictEqual(secret.metadata.annotations?.["helm.sh/hook"], "pre-install", "exists before init-certs runs")
    assert.isBelow(Number(secret.metadata.annotations?.["helm.sh/hook-weight"]), -10, "before init-certs' own hooks")
  })

  it("gitops.enabled with caBundleFrom=webhook: the webhook patches the caBundle (get + patch)", () => {
    const objects = helmTemplate(["--set", "gitops.enabled=true", "--set", "gitops.caBundleFrom=webhook"])
    const config = common(objects, "caBundleOnly")
    assert.strictEqual(config.webhook.disableCreateMutatingWebhookConfig, true)
    assert.strictEqual(config.webhook.manageCaBundleOnly, true)
    checkRegistration(objects, "flyte")
    assert.isUndefined(one(objects, "MutatingWebhookConfiguration", "flyte-pod-webhook").metadata.annotations)
    assert.lengthOf(byKind(objects, "Secret"), 0)
  })

  it("networkPolicy.enabled: HTTPS from the given peers only, metrics from monitoring; refused without peers", () => {
    const peers = [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }]
    const objects = helmTemplate(["--set", "networkPolicy.enabled=true", "--set-json", `networkPolicy.apiServerPeers=${JSON.stringify(peers)}`])
    checkNetworkPolicy(objects, common(objects, "full"), peers)
    assert.lengthOf(byKind(helmTemplate(), "NetworkPolicy"), 0, "off by default")
    assert.include(helmTemplateError(["--set", "networkPolicy.enabled=true"]), "networkPolicy.apiServerPeers must name where the API server calls from")
    assert.include(helmTemplateError(["--set-json", "networkPolicy.apiServerPeers=[{\"cidr\":\"10.0.0.0/8\"}]"]), "apiServerPeers")
  })

  it("high availability values", () => {
    const objects = helmTemplate([
      "--set", "autoscaling.enabled=true",
      "--set", "spreadReplicas=true",
      "--set", "podDisruptionBudget.minAvailable=2"
    ])
    const config = common(objects, "full")
    checkPodDisruptionBudget(objects, config, { minAvailable: 2 })
    assert.strictEqual(hpaOf(objects).minReplicas, 3)
    assert.isUndefined(replicasOf(objects))
    const pod = podTemplate(one(objects, "Deployment", "flyte-pod-webhook")).spec as unknown as Record<string, unknown>
    assert.lengthOf(pod["topologySpreadConstraints"] as ReadonlyArray<unknown>, 2)
  })

  it("secret managers, registration settings and extra keys reach the config file", () => {
    const objects = helmTemplate([
      "--set-json", "secretManager.types=[\"K8s\",\"Vault\"]",
      "--set-json", "secretManager.vault={\"role\":\"flyte-tasks\",\"kvVersion\":\"1\"}",
      "--set-json", "namespaceSelector={\"matchLabels\":{\"flyte\":\"enabled\"}}",
      "--set", "failurePolicy=Ignore",
      "--set", "timeoutSeconds=5",
      "--set", "config.onInjectionError=admit",
      "--set", "drainDelaySeconds=10",
      "--set", "shutdownTimeoutSeconds=40"
    ])
    const config = common(objects, "full")
    assert.deepStrictEqual(config.webhook.secretManagerTypes, ["K8s", "Vault"])
    assert.strictEqual(config.webhook.vaultSecretManager.role, "flyte-tasks")
    assert.strictEqual(config.webhook.vaultSecretManager.kvVersion, "1")
    assert.deepStrictEqual(config.webhook.namespaceSelector, { matchLabels: { flyte: "enabled" } })
    assert.strictEqual(config.webhook.failurePolicy, "Ignore")
    assert.strictEqual(config.webhook.timeoutSeconds, 5)
    assert.strictEqual(config.webhook.onInjectionError, "admit")
    assert.strictEqual(podTemplate(one(objects, "Deployment", "flyte-pod-webhook")).spec.terminationGracePeriodSeconds, 55)
  })

  it("refuses values that would break the webhook or let it inject itself", () => {
    assert.include(helmTemplateError(["--set", "config.listenPort=8443"]), "config.listenPort is set by the chart")
    assert.include(helmTemplateError(["--set", "podLabels.inject-flyte-secrets=true"]), "podLabels")
    assert.include(helmTemplateError(["--set", "timeoutSeconds=31"]), "timeoutSeconds")
    assert.include(helmTemplateError(["--set", "failurePolicy=Sometimes"]), "failurePolicy")
    assert.include(helmTemplateError(["--set", "initCerts.renewSchedule=@daily"]), "renewSchedule", "no renewal CronJob to schedule")
  })
})

describe.skipIf(kubectl === undefined || helm === undefined)("deploy/render.sh (what the end-to-end suite applies)", () => {
  it("renders all eight variants into the namespace it is given", () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-render-"))
    try {
      execFileSync("bash", [path.join(deployDir, "render.sh"), out, "render-check"], {
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, KUBECTL: kubectl, HELM: helm }
      })
      const files = fs.readdirSync(out).sort()
      assert.deepStrictEqual(files, [
        "helm-default.yaml", "helm-gitops.yaml", "helm-ha.yaml", "helm-network-policy.yaml",
        "kustomize-base.yaml", "kustomize-gitops.yaml", "kustomize-ha.yaml", "kustomize-network-policy.yaml"
      ])
      for (const file of files) {
        const objects = parseYamlStream(fs.readFileSync(path.join(out, file), "utf8"))
        assert.isAbove(objects.length, 10, file)
        for (const object of objects) {
          if (object.kind === "ClusterRole" || object.kind === "ClusterRoleBinding" || object.kind === "MutatingWebhookConfiguration") continue
          assert.strictEqual(object.metadata.namespace, "render-check", `${file}: ${object.kind} ${object.metadata.name}`)
        }
        if (file.includes("gitops")) {
          checkRegistration(objects, "render-check")
          checkCaInjection(objects, renderedConfig(objects), "render-check")
        }
      }
    } finally {
      fs.rmSync(out, { recursive: true, force: true })
    }
  })
})
