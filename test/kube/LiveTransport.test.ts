import { KubeConfig } from "@kubernetes/client-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as net from "node:net"
import { type CallPolicy, makeKubeClient } from "../../src/kube/KubeClient.ts"
import { makeLiveTransport } from "../../src/kube/LiveTransport.ts"
import { type FakeApiServer, kubeconfigText, startFakeApiServer } from "./FakeApiServer.ts"

let api: FakeApiServer
beforeAll(async () => {
  api = await startFakeApiServer()
})
afterAll(() => api.close())

const client = (policy: CallPolicy = { timeout: "2 seconds", retries: 2, backoff: "5 millis" }, url?: string) => {
  const config = new KubeConfig()
  config.loadFromString(kubeconfigText(url ?? api.url, api.caPem))
  const live = makeLiveTransport(config)
  return makeKubeClient(live.transport, policy, live.server)
}

const last = () => api.requests[api.requests.length - 1]

describe("live transport (@kubernetes/client-node) against an HTTPS fake API server", () => {
  it.live("reads, creates and replaces a Secret with the kubeconfig's CA and token", () =>
    Effect.gen(function*() {
      const kube = client()
      const missing = yield* kube.getSecret("ns1", "s").pipe(Effect.flip)
      assert.strictEqual(missing._tag, "NotFound")
      assert.include(missing.message, `"s" not found`)
      assert.strictEqual(last()?.authorization, "Bearer fake-token")
      const created = yield* kube.createSecret("ns1", { metadata: { name: "s" }, type: "Opaque", data: { a: "YQ==" } })
      assert.strictEqual(last()?.method, "POST")
      assert.strictEqual(created.data?.["a"], "YQ==")
      const again = yield* kube.createSecret("ns1", { metadata: { name: "s" } }).pipe(Effect.flip)
      assert.strictEqual(again._tag, "AlreadyExists")
      const replaced = yield* kube.replaceSecret("ns1", { ...created, data: { a: "Yg==" } })
      assert.strictEqual(last()?.method, "PUT")
      assert.notStrictEqual(replaced.metadata.resourceVersion, created.metadata.resourceVersion)
      const stale = yield* kube.replaceSecret("ns1", { ...created, data: { a: "Yw==" } }).pipe(Effect.flip)
      assert.strictEqual(stale._tag, "Conflict")
    }))

  it.live("applies the webhook configuration server-side (content type, fieldManager, force) and patches with JSON patch", () =>
    Effect.gen(function*() {
      const kube = client()
      const config = {
        metadata: { name: "w1" },
        webhooks: [{ name: "a.b.c", clientConfig: { url: "https://x" }, admissionReviewVersions: ["v1"], sideEffects: "None" }]
      }
      const applied = yield* kube.applyWebhookConfiguration(config)
      assert.strictEqual(last()?.contentType, "application/apply-patch+yaml")
      assert.deepStrictEqual(last()?.query, { fieldManager: "flyte-pod-webhook", force: "true" })
      assert.strictEqual(applied.webhooks?.[0]?.failurePolicy, "Fail") // defaulted by the fake API server
      const patched = yield* kube.patchWebhookConfiguration("w1", [
        { op: "test", path: "/metadata/resourceVersion", value: applied.metadata.resourceVersion },
        { op: "add", path: "/webhooks/0/clientConfig/caBundle", value: "Q0E=" }
      ])
      assert.strictEqual(last()?.contentType, "application/json-patch+json")
      assert.strictEqual(patched.webhooks?.[0]?.clientConfig.caBundle, "Q0E=")
      yield* kube.deleteWebhookConfiguration("w1")
      const gone = yield* kube.getWebhookConfiguration("w1").pipe(Effect.flip)
      assert.strictEqual(gone._tag, "NotFound")
    }))

  it.live("retries a 500 and a dropped connection, then succeeds", () =>
    Effect.gen(function*() {
      const kube = client()
      api.control.putSecret({ metadata: { name: "r", namespace: "ns2" }, data: {} })
      api.control.failNext("getSecret", "Unavailable")
      api.control.failNext("getSecret", "Unreachable")
      const before = api.requests.length
      const read = yield* kube.getSecret("ns2", "r")
      assert.strictEqual(read.metadata.name, "r")
      assert.strictEqual(api.requests.length - before, 3)
    }))

  it.live("a request without an answer is aborted at the deadline, retried, then Unavailable", () =>
    Effect.gen(function*() {
      const kube = client({ timeout: "300 millis", retries: 1, backoff: "5 millis" })
      api.hangNext(2)
      const before = api.requests.length
      const error = yield* kube.getSecret("ns3", "h").pipe(Effect.flip)
      assert.strictEqual(error._tag, "Unavailable")
      assert.include(error.message, "no answer within")
      assert.strictEqual(api.requests.length - before, 2)
    }))

  it.live("a budget bounds the whole call, however many retries remain; the message names the server", () =>
    Effect.gen(function*() {
      const kube = client({ timeout: "300 millis", retries: 10, backoff: "5 millis", budget: "500 millis" })
      api.hangNext(10)
      const before = api.requests.length
      const error = yield* kube.getSecret("ns4", "h").pipe(Effect.flip)
      assert.strictEqual(error._tag, "Unavailable")
      assert.strictEqual(error.message, `get secrets "h" in namespace ns4: API server ${api.url} gave no answer within 500ms`)
      assert.isBelow(api.requests.length - before, 11, "cut before the retries ran out")
    }))

  it.live("no server at the URL: the message names the URL and the socket error, not only \"fetch failed\"", () =>
    Effect.gen(function*() {
      const closed = yield* Effect.promise(() => closedPort())
      const kube = client({ timeout: "2 seconds", retries: 1, backoff: "5 millis" }, `https://127.0.0.1:${closed}`)
      const error = yield* kube.getSecret("ns5", "s").pipe(Effect.flip)
      assert.strictEqual(error._tag, "Unavailable")
      assert.strictEqual(
        error.message,
        `get secrets "s" in namespace ns5: API server https://127.0.0.1:${closed} unreachable: connect ECONNREFUSED 127.0.0.1:${closed}`
      )
    }))
})

/** closedPort: a loopback port nothing listens on (bound once, then released). */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
