import { assert, describe, it } from "@effect/vitest"
import { podAnnotations, podIdentity, podLabel } from "../../src/domain/Pod.ts"

describe("Pod fields", () => {
  it("reads one label, annotations (strings only), namespace and name", () => {
    const pod = {
      metadata: { name: "p", namespace: "ns", labels: { a: "1", n: 2 }, annotations: { "flyte.secrets/s0": "x", n: 2 } },
      spec: { containers: [] }
    }
    assert.strictEqual(podLabel(pod, "a"), "1")
    assert.strictEqual(podLabel(pod, "n"), undefined)
    assert.strictEqual(podLabel(pod, "missing"), undefined)
    assert.deepStrictEqual(podAnnotations(pod), { "flyte.secrets/s0": "x" })
    assert.deepStrictEqual(podIdentity(pod), { namespace: "ns", name: "p" })
  })

  it("a controller-made Pod: generateName with a star, no namespace", () => {
    assert.deepStrictEqual(podIdentity({ metadata: { generateName: "job-" } }), { namespace: "", name: "job-*" })
  })

  it("a label inherited from Object.prototype is no label", () => {
    assert.strictEqual(podLabel({ metadata: { labels: {} } }, "toString"), undefined)
    assert.strictEqual(podLabel({ metadata: { labels: {} } }, "__proto__"), undefined)
  })

  it("anything malformed reads as empty, never throws", () => {
    for (const pod of [null, 1, "x", [], { metadata: [] }, { metadata: { labels: "x", annotations: null } }]) {
      assert.deepStrictEqual(podAnnotations(pod), {})
      assert.deepStrictEqual(podIdentity(pod), { namespace: "", name: "" })
      assert.strictEqual(podLabel(pod, "inject-flyte-secrets"), undefined)
    }
  })
})
