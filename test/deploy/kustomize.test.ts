/**
 * The Kustomize files as written: every reference resolves, the base has the properties, and the
 * overlays change what they say. (rendered.test.ts checks the same on kubectl kustomize's output.)
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import * as YAML from "yaml"
import {
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
  one
} from "./Checks.ts"
import { configOf, deployDir, type K8sObject, localObjects, readKustomization, readYamlDocs, yamlFilesUnder } from "./Manifests.ts"

const base = path.join(deployDir, "base")
const baseConfigText = fs.readFileSync(path.join(base, "config.yaml"), "utf8")
const baseConfig = configOf(baseConfigText)
const baseObjects = localObjects(base)

describe("deploy/ files", () => {
  it("every YAML file parses, and every object has apiVersion, kind and a name", () => {
    const files = yamlFilesUnder(deployDir)
    assert.isAbove(files.length, 15)
    for (const file of files) {
      for (const doc of readYamlDocs(file)) {
        const object = doc as Partial<K8sObject>
        if (path.basename(file) === "config.yaml" || path.basename(file) === "Chart.yaml" || path.basename(file) === "values.yaml") continue
        assert.isString(object.apiVersion, file)
        assert.isString(object.kind, file)
        if (object.kind !== "Kustomization" && object.kind !== "Component") assert.isString(object.metadata?.name, file)
      }
    }
  })

  it("every kustomization's resources, components, patches and generator files exist", () => {
    const kustomizations = yamlFilesUnder(deployDir).filter((f) => path.basename(f) === "kustomization.yaml")
    assert.sameMembers(kustomizations.map((f) => path.relative(deployDir, path.dirname(f))), [
      "base",
      "components/doctor",
      "components/namespace",
      "components/network-policy",
      "observability",
      "components/vpa",
      "overlays/gitops",
      "overlays/ha"
    ])
    for (const file of kustomizations) {
      const dir = path.dirname(file)
      const k = readKustomization(dir)
      for (const entry of [...(k.resources ?? []), ...(k.components ?? [])]) {
        const target = path.join(dir, entry)
        assert.isTrue(fs.existsSync(target), `${file}: ${entry} exists`)
        if (fs.statSync(target).isDirectory()) assert.isTrue(fs.existsSync(path.join(target, "kustomization.yaml")), `${entry} is a kustomization`)
      }
      for (const patch of k.patches ?? []) {
        if (patch.path !== undefined) assert.isTrue(fs.existsSync(path.join(dir, patch.path)), `${file}: patch ${patch.path}`)
        else assert.isString(patch.patch, `${file}: an inline patch`)
      }
      for (const generator of k.configMapGenerator ?? []) {
        for (const entry of generator.files ?? []) {
          const source = entry.includes("=") ? entry.slice(entry.indexOf("=") + 1) : entry // `key=file` form
          assert.isTrue(fs.existsSync(path.join(dir, source)), `${file}: ${source}`)
        }
      }
    }
  })

  it("the namespace is optional: only the component creates it", () => {
    const namespaces = yamlFilesUnder(deployDir)
      .flatMap((f) => readYamlDocs(f).map((doc) => ({ f, doc: doc as Partial<K8sObject> })))
      .filter(({ doc }) => doc.kind === "Namespace")
    assert.deepStrictEqual(namespaces.map(({ f }) => path.relative(deployDir, f)), ["components/namespace/namespace.yaml"])
    assert.strictEqual(readKustomization(path.join(deployDir, "components/namespace")).kind, "Component")
    assert.notInclude(readKustomization(base).resources ?? [], "../components/namespace")
  })
})

describe("deploy/base", () => {
  it("is read by the webhook's own config parser with the values the manifests rely on", () => {
    const w = baseConfig.webhook
    assert.strictEqual(w.certDir, "/etc/webhook/certs")
    assert.strictEqual(w.listenPort, 9443)
    assert.strictEqual(w.probePort, 10254)
    assert.strictEqual(w.serviceName, "flyte-pod-webhook")
    assert.strictEqual(w.secretName, "flyte-pod-webhook-secret")
    assert.strictEqual(w.failurePolicy, "Fail")
    assert.strictEqual(w.disableCreateMutatingWebhookConfig, false)
    assert.strictEqual(w.certSource, "files")
    assert.deepStrictEqual(Object.keys(YAML.parse(baseConfigText)), ["webhook", "secrets"], "Flyte's format")
  })

  it("hardens every pod and never labels anything for injection", () => {
    assert.strictEqual(checkHardening(baseObjects), 2)
    checkNoSelfInjection(baseObjects)
  })

  it("runs the webhook with probes, ports, certs and a grace period that fit its config", () => {
    checkDeployment(baseObjects, baseConfig)
    const deployment = one(baseObjects, "Deployment", "flyte-pod-webhook")
    assert.isAtLeast((deployment["spec"] as { replicas: number }).replicas, 2)
  })

  it("exposes 443 -> 9443 and budgets disruptions without ever blocking a drain", () => {
    checkService(baseObjects, baseConfig)
    checkPodDisruptionBudget(baseObjects, baseConfig, { maxUnavailable: 1 })
  })

  it("grants the narrowest RBAC (the webhook: its Secret by name, get + update) and runs init-certs under its own", () => {
    checkRbac(baseObjects, baseConfig, "full")
    checkInitCerts(baseObjects, baseConfig)
  })

  it("generates the ConfigMap the pods mount from config.yaml", () => {
    const generators = readKustomization(base).configMapGenerator ?? []
    assert.deepStrictEqual(generators, [{ name: "flyte-pod-webhook-config", files: ["config.yaml"] }])
    assert.strictEqual(readKustomization(base).namespace, "flyte")
  })
})

describe("deploy/overlays/ha", () => {
  const dir = path.join(deployDir, "overlays/ha")
  const objects = localObjects(dir)
  const patch = (file: string) => readYamlDocs(path.join(dir, file))[0] as K8sObject

  it("autoscales on CPU from three replicas", () => {
    const hpa = one(objects, "HorizontalPodAutoscaler", "flyte-pod-webhook")
    assert.strictEqual(hpa.apiVersion, "autoscaling/v2")
    const s = hpa["spec"] as { minReplicas: number; maxReplicas: number; scaleTargetRef: { kind: string; name: string }; metrics: ReadonlyArray<{ resource: { name: string } }> }
    assert.strictEqual(s.minReplicas, 3)
    assert.isAbove(s.maxReplicas, 3)
    assert.deepStrictEqual(s.scaleTargetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "flyte-pod-webhook" } as typeof s.scaleTargetRef)
    assert.deepStrictEqual(s.metrics.map((m) => m.resource.name), ["cpu"])
    const inline = readKustomization(dir).patches?.find((p) => p.patch !== undefined)?.patch ?? ""
    assert.deepStrictEqual(YAML.parse(inline), [{ op: "remove", path: "/spec/replicas" }], "the autoscaler owns replicas")
  })

  it("spreads replicas over zones and nodes, as preferences", () => {
    const pod = (patch("deployment-spread.yaml")["spec"] as { template: { spec: Record<string, unknown> } }).template.spec
    const spread = pod["topologySpreadConstraints"] as ReadonlyArray<{ topologyKey: string; whenUnsatisfiable: string }>
    assert.deepStrictEqual(spread.map((c) => c.topologyKey), ["topology.kubernetes.io/zone", "kubernetes.io/hostname"])
    assert.deepStrictEqual(spread.map((c) => c.whenUnsatisfiable), ["ScheduleAnyway", "ScheduleAnyway"])
    const anti = (pod["affinity"] as { podAntiAffinity: Record<string, unknown> }).podAntiAffinity
    assert.deepStrictEqual(Object.keys(anti), ["preferredDuringSchedulingIgnoredDuringExecution"])
  })

  it("keeps two of three serving through disruptions", () => {
    const s = patch("poddisruptionbudget.yaml")["spec"] as { minAvailable: number; maxUnavailable: null }
    assert.strictEqual(s.minAvailable, 2)
    assert.isNull(s.maxUnavailable, "the base's maxUnavailable is removed")
  })
})

describe("deploy/overlays/gitops", () => {
  const dir = path.join(deployDir, "overlays/gitops")
  const objects = localObjects(dir)
  const configText = fs.readFileSync(path.join(dir, "config.yaml"), "utf8")

  it("ships the registration of spec section 5, without a caBundle", () => {
    checkRegistration(objects, "flyte")
    checkNoSelfInjection(objects)
  })

  it("configures the webhook to touch no registration, otherwise as the base", () => {
    const config = configOf(configText)
    assert.strictEqual(config.webhook.disableCreateMutatingWebhookConfig, true)
    assert.strictEqual(config.webhook.manageCaBundleOnly, false)
    const gitops = YAML.parse(configText) as { webhook: Record<string, unknown> }
    const { disableCreateMutatingWebhookConfig: _d, ...rest } = gitops.webhook
    assert.deepStrictEqual({ ...gitops, webhook: rest }, YAML.parse(baseConfigText))
    const generator = readKustomization(dir).configMapGenerator?.[0]
    assert.deepStrictEqual(generator, { name: "flyte-pod-webhook-config", behavior: "replace", files: ["config.yaml"] })
  })

  it("has cert-manager's cainjector write the caBundle and removes the webhook's ClusterRole and its binding", () => {
    checkCaInjection(objects, configOf(configText), "flyte") // rendered.test.ts checks the roles after the patches
    const deleted = (readKustomization(dir).patches ?? []).map((p) => YAML.parse(p.patch ?? "") as Record<string, unknown>)
    assert.deepStrictEqual(deleted.map((p) => [p["$patch"], p["kind"], (p["metadata"] as { name: string }).name]), [
      ["delete", "ClusterRole", "flyte-pod-webhook"],
      ["delete", "ClusterRoleBinding", "flyte-pod-webhook"]
    ])
  })
})

describe("deploy/components/network-policy", () => {
  const dir = path.join(deployDir, "components/network-policy")

  it("is a component whose policy admits HTTPS from a placeholder peer no host has, and metrics from monitoring", () => {
    assert.strictEqual(readKustomization(dir).kind, "Component")
    const objects = [...localObjects(dir), ...baseObjects]
    checkNetworkPolicy(objects, baseConfig, [{ ipBlock: { cidr: "192.0.2.0/24" } }]) // RFC 5737 TEST-NET-1
    assert.include(fs.readFileSync(path.join(dir, "kustomization.yaml"), "utf8"), "path: /spec/ingress/0/from", "says how to set the peers")
  })
})
