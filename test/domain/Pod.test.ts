import { assert, describe, it } from "@effect/vitest"
import { podFields } from "../../src/domain/Pod.ts"

describe("podFields", () => {
  it("reads labels, annotations (strings only), namespace and name", () => {
    const pod = {
      metadata: { name: "p", namespace: "ns", labels: { a: "1", n: 2 }, annotations: { "flyte.secrets/s0": "x" } },
      spec: { containers: [] }
    }
    assert.deepStrictEqual(podFields(pod), {
      labels: { a: "1" },
      annotations: { "flyte.secrets/s0": "x" },
      namespace: "ns",
      name: "p"
    })
  })

  it("a controller-made Pod: generateName with a star, no namespace", () => {
    assert.deepStrictEqual(podFields({ metadata: { generateName: "job-" } }), {
      labels: {},
      annotations: {},
      namespace: "",
      name: "job-*"
    })
  })

  it("anything malformed reads as empty, never throws", () => {
    for (const pod of [null, 1, "x", [], { metadata: [] }, { metadata: { labels: "x", annotations: null } }]) {
      assert.deepStrictEqual(podFields(pod), { labels: {}, annotations: {}, namespace: "", name: "" })
    }
  })
})
