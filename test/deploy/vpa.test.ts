/**
 * The VerticalPodAutoscaler (deploy/components/vpa and the chart's `vpa.*`): memory only and requests only, so it
 * never moves the CPU request the HPA's utilization target is measured against, and never cuts the memory
 * limit below the V8 heap NODE_OPTIONS fixes; bounds within the Deployment's own. The end-to-end suite applies
 * the same manifests to a real API server with the VPA's CRD (test/e2e/vpa.test.ts).
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { one, podTemplate } from "./Checks.ts"
import { deployDir, helm, helmTemplate, helmTemplateError, type K8sObject, kubectl, localObjects, parseYamlStream, readKustomization } from "./Manifests.ts"

interface ContainerPolicy {
  readonly containerName: string
  readonly controlledResources: ReadonlyArray<string>
  readonly controlledValues: string
  readonly minAllowed: Record<string, string>
  readonly maxAllowed: Record<string, string>
}
interface VpaSpec {
  readonly targetRef: { readonly apiVersion: string; readonly kind: string; readonly name: string }
  readonly updatePolicy: { readonly updateMode: string }
  readonly resourcePolicy: { readonly containerPolicies: ReadonlyArray<ContainerPolicy> }
}

const vpaSpec = (objects: ReadonlyArray<K8sObject>): VpaSpec => {
  const vpa = one(objects, "VerticalPodAutoscaler", "flyte-pod-webhook")
  assert.strictEqual(vpa.apiVersion, "autoscaling.k8s.io/v1")
  return vpa["spec"] as VpaSpec
}

const mebibytes = (quantity: unknown): number => {
  const m = /^(\d+)(Mi|Gi)$/.exec(String(quantity ?? ""))
  return m === null ? Number.NaN : Number(m[1]) * (m[2] === "Gi" ? 1024 : 1)
}

/** checkVpa: the VPA fits the Deployment it targets (`objects` hold both) and leaves CPU to the HPA. */
const checkVpa = (objects: ReadonlyArray<K8sObject>, vpa: VpaSpec): void => {
  assert.deepStrictEqual(vpa.targetRef, { apiVersion: "apps/v1", kind: "Deployment", name: "flyte-pod-webhook" })
  assert.strictEqual(vpa.updatePolicy.updateMode, "Initial", "applied at replica start, no evictions")
  const [policy] = vpa.resourcePolicy.containerPolicies
  const container = podTemplate(one(objects, "Deployment", "flyte-pod-webhook")).spec.containers[0]!
  assert.strictEqual(policy?.containerName, container.name)
  assert.deepStrictEqual(policy?.controlledResources, ["memory"], "never cpu: the HPA scales on the CPU request")
  assert.strictEqual(policy?.controlledValues, "RequestsOnly", "the memory limit stays sized on the heap")
  const limit = mebibytes(container.resources?.limits?.["memory"])
  const floor = mebibytes(policy?.minAllowed["memory"])
  assert.isAtLeast(floor, 212, "the floor is above the highest RSS bench:cluster saw, 211 MiB (docs/capacity.md)")
  assert.isAtMost(floor, mebibytes(container.resources?.requests?.["memory"]), "the floor is no more than the request it starts from")
  assert.strictEqual(mebibytes(policy?.maxAllowed["memory"]), limit, "the ceiling is the limit")
}

describe("deploy/components/vpa", () => {
  const dir = path.join(deployDir, "components/vpa")

  it("is a component holding one memory-only VPA", () => {
    assert.strictEqual(readKustomization(dir).kind, "Component")
    const objects = localObjects(dir)
    assert.deepStrictEqual(objects.map((o) => o.kind), ["VerticalPodAutoscaler"])
    checkVpa([...objects, ...localObjects(path.join(deployDir, "base"))], vpaSpec(objects))
  })

  it("and the HA overlay's HPA never share a resource metric", () => {
    const hpa = one(localObjects(path.join(deployDir, "overlays/ha")), "HorizontalPodAutoscaler", "flyte-pod-webhook")
    const metrics = (hpa["spec"] as { metrics: ReadonlyArray<{ resource: { name: string } }> }).metrics.map((m) => m.resource.name)
    const vpa = vpaSpec(localObjects(dir)).resourcePolicy.containerPolicies.flatMap((p) => p.controlledResources)
    assert.deepStrictEqual(metrics.filter((m) => vpa.includes(m)), [])
  })
})

describe.skipIf(kubectl === undefined)("kubectl kustomize with components/vpa", () => {
  it("renders beside the HA overlay, as docs/capacity.md recommends", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-vpa-"))
    try {
      fs.writeFileSync(path.join(dir, "kustomization.yaml"), [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        `resources: [${path.relative(dir, path.join(deployDir, "overlays/ha"))}]`,
        `components: [${path.relative(dir, path.join(deployDir, "components/vpa"))}]`,
        ""
      ].join("\n"))
      const objects = parseYamlStream(execFileSync(kubectl!, ["kustomize", dir], { encoding: "utf8" }))
      checkVpa(objects, vpaSpec(objects))
      assert.strictEqual(one(objects, "VerticalPodAutoscaler", "flyte-pod-webhook").metadata.namespace, "flyte")
      assert.strictEqual(one(objects, "HorizontalPodAutoscaler", "flyte-pod-webhook").metadata.namespace, "flyte")
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe.skipIf(helm === undefined)("helm template vpa.*", () => {
  it("renders nothing by default", () => {
    assert.isFalse(helmTemplate().some((o) => o.kind === "VerticalPodAutoscaler"))
  })

  it("vpa.enabled renders the same VPA as the component, with the HPA too", () => {
    for (const args of [["--set", "vpa.enabled=true"], ["--set", "vpa.enabled=true", "--set", "autoscaling.enabled=true"]]) {
      const objects = helmTemplate(args)
      checkVpa(objects, vpaSpec(objects))
      assert.strictEqual(one(objects, "VerticalPodAutoscaler", "flyte-pod-webhook").metadata.namespace, "flyte")
    }
  })

  it("passes its values through", () => {
    const vpa = vpaSpec(helmTemplate([
      "--set", "vpa.enabled=true",
      "--set", "vpa.updateMode=InPlaceOrRecreate",
      "--set-json", "vpa.controlledResources=[\"cpu\",\"memory\"]",
      "--set", "vpa.controlledValues=RequestsAndLimits",
      "--set", "vpa.minAllowed.cpu=50m",
      "--set", "vpa.maxAllowed.memory=1Gi"
    ]))
    assert.strictEqual(vpa.updatePolicy.updateMode, "InPlaceOrRecreate")
    const [policy] = vpa.resourcePolicy.containerPolicies
    assert.deepStrictEqual(policy?.controlledResources, ["cpu", "memory"])
    assert.strictEqual(policy?.controlledValues, "RequestsAndLimits")
    assert.deepStrictEqual(policy?.minAllowed, { cpu: "50m", memory: "224Mi" })
    assert.deepStrictEqual(policy?.maxAllowed, { memory: "1Gi" })
  })

  it("refuses cpu beside the HPA, and values the VPA does not know", () => {
    assert.include(
      helmTemplateError(["--set", "vpa.enabled=true", "--set", "autoscaling.enabled=true", "--set-json", "vpa.controlledResources=[\"cpu\",\"memory\"]"]),
      "vpa.controlledResources includes cpu while autoscaling.enabled"
    )
    assert.include(helmTemplateError(["--set", "vpa.updateMode=Sometimes"]), "updateMode")
    assert.include(helmTemplateError(["--set-json", "vpa.controlledResources=[\"gpu\"]"]), "controlledResources")
    assert.include(helmTemplateError(["--set", "vpa.minAllowed.disk=1Gi"]), "disk")
  })
})
