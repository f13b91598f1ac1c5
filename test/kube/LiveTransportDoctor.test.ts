/**
 * The live transport's read-only operations for `doctor` (@kubernetes/client-node plus RawRequest) against the
 * HTTPS fake API server: paths, query parameters, bodies and answers as the real API server has them, the
 * dry run's refusal as an answer (not an error) and its Warning headers, the service proxy's POST body and
 * the API server's /metrics text.
 */
import { KubeConfig } from "@kubernetes/client-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { makeKubeClient } from "../../src/kube/KubeClient.ts"
import { makeLiveTransport } from "../../src/kube/LiveTransport.ts"
import { warningTexts } from "../../src/kube/RawRequest.ts"
import { type FakeApiServer, kubeconfigText, startFakeApiServer } from "./FakeApiServer.ts"

let api: FakeApiServer
beforeAll(async () => {
  api = await startFakeApiServer()
})
afterAll(() => api.close())

const client = () => {
  const config = new KubeConfig()
  config.loadFromString(kubeconfigText(api.url, api.caPem))
  return makeKubeClient(makeLiveTransport(config).transport, { timeout: "2 seconds", retries: 0, backoff: "5 millis" })
}
const last = () => api.requests[api.requests.length - 1]

describe("live transport: doctor's read-only calls", () => {
  it.live("Service, EndpointSlices by service-name label, Namespace", () =>
    Effect.gen(function*() {
      const kube = client()
      api.control.putService({ metadata: { name: "svc", namespace: "ns" }, spec: { ports: [{ name: "https", port: 443, targetPort: "https" }] } })
      api.control.putEndpointSlice({ metadata: { name: "svc-a", namespace: "ns", labels: { "kubernetes.io/service-name": "svc" } }, endpoints: [{ addresses: ["10.0.0.1"] }] })
      api.control.putEndpointSlice({ metadata: { name: "other-a", namespace: "ns", labels: { "kubernetes.io/service-name": "other" } }, endpoints: [] })
      api.control.putNamespace({ metadata: { name: "tasks", labels: { team: "a" } } })
      assert.deepStrictEqual((yield* kube.getService("ns", "svc")).spec?.ports?.[0]?.targetPort, "https")
      const slices = yield* kube.listEndpointSlices("ns", "svc")
      assert.deepStrictEqual(last()?.query, { labelSelector: "kubernetes.io/service-name=svc" })
      assert.deepStrictEqual(slices.map((s) => s.metadata.name), ["svc-a"])
      assert.deepStrictEqual((yield* kube.getNamespace("tasks")).metadata.labels, { team: "a" })
      assert.strictEqual((yield* kube.getService("ns", "nope").pipe(Effect.flip))._tag, "NotFound")
    }))

  it.live("SubjectAccessReview for another user and SelfSubjectAccessReview for the caller", () =>
    Effect.gen(function*() {
      const kube = client()
      api.control.grant("system:serviceaccount:flyte:w", { verbs: ["get"], apiGroups: [""], resources: ["secrets"], resourceNames: ["s"], namespace: "flyte" })
      const question = { user: "system:serviceaccount:flyte:w", groups: ["system:serviceaccounts"], verb: "get", group: "", resource: "secrets", namespace: "flyte" }
      assert.isTrue((yield* kube.reviewAccess({ ...question, name: "s" })).allowed)
      assert.strictEqual(last()?.path, "/apis/authorization.k8s.io/v1/subjectaccessreviews")
      assert.isFalse((yield* kube.reviewAccess({ ...question, name: "t" })).allowed)
      api.control.refuseSelf("create", "configmaps")
      assert.isFalse((yield* kube.reviewAccess({ verb: "create", group: "", resource: "configmaps", namespace: "x" })).allowed)
      assert.strictEqual(last()?.path, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
    }))

  it.live("a dry-run Pod create: dryRun=All, warnings from the headers, a refusal as an answer", () =>
    Effect.gen(function*() {
      const kube = client()
      const pod = { apiVersion: "v1", kind: "Pod", metadata: { generateName: "p-" }, spec: { containers: [{ name: "c", image: "i" }] } }
      api.control.admitPods(async (_ns, p) => ({ _tag: "Admitted", pod: { ...p, metadata: { ...p.metadata, name: "p-1" } }, warnings: ["one \"quoted\"", "two, with a comma"] }))
      const admitted = yield* kube.createPodDryRun("ns", pod, "2 seconds")
      assert.deepStrictEqual(last()?.query, { dryRun: "All" })
      assert.strictEqual(admitted._tag, "Admitted")
      if (admitted._tag === "Admitted") {
        assert.strictEqual(admitted.pod.metadata.name, "p-1")
        assert.deepStrictEqual(admitted.warnings, ["one \"quoted\"", "two, with a comma"])
      }
      api.control.admitPods(async () => ({ _tag: "Refused", status: 500, reason: "InternalError", message: "Internal error occurred: failed calling webhook \"w\": x509" }))
      const refused = yield* kube.createPodDryRun("ns", pod, "2 seconds")
      assert.deepStrictEqual(refused, { _tag: "Refused", status: 500, reason: "InternalError", message: "Internal error occurred: failed calling webhook \"w\": x509" })
    }))

  it.live("the service proxy POSTs the JSON body to the path; /metrics is text", () =>
    Effect.gen(function*() {
      const kube = client()
      api.control.proxy(async (namespace, service, port, path, body) => ({ namespace, service, port, path, body }))
      const answer = yield* kube.proxyServicePost("flyte", "svc", "443", "/mutate--v1-pod", { hello: "webhook" })
      assert.deepStrictEqual(answer, { namespace: "flyte", service: "svc", port: "443", path: "/mutate--v1-pod", body: { hello: "webhook" } })
      assert.strictEqual(last()?.path, "/api/v1/namespaces/flyte/services/https:svc:443/proxy/mutate--v1-pod")
      api.control.setApiServerMetrics("apiserver_admission_webhook_fail_open_count{name=\"w\"} 3\n")
      assert.strictEqual(yield* kube.getApiServerMetrics, "apiserver_admission_webhook_fail_open_count{name=\"w\"} 3\n")
      api.control.refuseSelf("get", "/metrics")
      const refused = yield* kube.getApiServerMetrics.pipe(Effect.flip)
      assert.strictEqual(refused._tag, "Forbidden")
    }))

  it("warningTexts reads RFC 7234 warn-values as the API server writes them", () => {
    assert.deepStrictEqual(warningTexts(undefined), [])
    assert.deepStrictEqual(warningTexts('299 - "a", 299 - "b \\"c\\", d"'), ["a", 'b "c", d'])
  })
})
