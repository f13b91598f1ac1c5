/**
 * Scenarios 2, 7 and 8, on one two-replica deployment run as the webhook's ServiceAccount with only
 * deploy/base's RBAC, registered in URL mode behind the RoundRobinProxy (the Service's stand-in):
 *  2. `serve` registers the MutatingWebhookConfiguration itself (Registrar), as that identity;
 *  7. the two replicas, started at the same moment, converge on one configuration that then stays unchanged
 *     over several registration checks (`webhook.registrationCheckInterval: 2s`);
 *  8. SIGTERM to one replica while Pods are being created: the other keeps serving and no creation fails.
 * Then `unregister` removes the configuration.
 */
import { afterAll, assert, it } from "vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Api } from "./harness/Api.ts"
import { InstallNamespace } from "./harness/ControlPlane.ts"
import { generatedPod } from "./harness/ExpectedPods.ts"
import { PodLoop } from "./harness/Load.ts"
import { adminApi, beforeAllE2e, control, describeE2e, fileDir, showLogsOnFailure } from "./harness/Suite.ts"
import { kubectl } from "./harness/Tools.ts"
import { sleep } from "./harness/Wait.ts"
import { Deployment, logLines, SelectorLabel } from "./harness/Webhook.ts"
import { prepareCerts, unregister } from "./harness/WebhookCli.ts"
import type { ApiJson } from "./harness/Api.ts"

const ConfigurationPath = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/flyte-pod-webhook"
const CheckIntervalMs = 2_000

/** k8sPod: a labelled Pod asking for a Kubernetes Secret as an env var. */
const k8sPod = () => generatedPod("task-", { group: "db-creds", key: "password", mountRequirement: "ENV_VAR" })
const hasSecretEnv = (pod: ApiJson) =>
  (pod?.spec?.containers?.[0]?.env ?? []).some((e: ApiJson) =>
    e.name === "_FSEC_DB-CREDS_PASSWORD" && e.valueFrom?.secretKeyRef?.name === "db-creds"
  )

describeE2e("registration by the webhook itself, two replicas, SIGTERM", () => {
  let api: Api
  let dir: string
  let certDir: string
  let deployment: Deployment | undefined
  let startedAt = 0
  showLogsOnFailure(() => deployment?.logs ?? [])

  beforeAllE2e(async () => {
    api = adminApi()
    dir = fileDir("registration")
    certDir = path.join(dir, "certs")
    await prepareCerts(control(), dir, certDir)
    startedAt = Date.now() - 1_000
    // Both replicas are spawned at the same moment (Deployment.start): scenario 7's race.
    deployment = await Deployment.start({ name: "main", ctx: control(), dir, identity: control().webhook, certDir, replicas: 2 })
  }, () => deployment?.logs ?? [])
  afterAll(async () => {
    await deployment?.stopAndUnregister()
    api?.close()
  })

  it("scenario 2: serve registers the configuration itself, as the webhook's ServiceAccount with deploy/base's RBAC only", async () => {
    const live = await api.get(ConfigurationPath)
    assert.deepStrictEqual(live.metadata.labels, { "app.kubernetes.io/name": "flyte-pod-webhook", "app.kubernetes.io/managed-by": "flyte-pod-webhook" })
    assert.strictEqual(live.webhooks.length, 1)
    const caBundle = Buffer.from(fs.readFileSync(path.join(certDir, "ca.crt"))).toString("base64")
    assert.deepStrictEqual(live.webhooks[0], {
      name: "flyte-pod-webhook.flyte.org",
      clientConfig: { url: deployment!.url, caBundle },
      rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], scope: "*" }],
      failurePolicy: "Fail",
      matchPolicy: "Equivalent",
      namespaceSelector: { matchLabels: { [SelectorLabel]: "main" } },
      objectSelector: { matchLabels: { "inject-flyte-secrets": "true" } },
      sideEffects: "None",
      timeoutSeconds: 10,
      admissionReviewVersions: ["v1", "v1beta1"],
      reinvocationPolicy: "IfNeeded"
    })
    // Written only by the webhook's field manager, as the ServiceAccount (the audit log names the user).
    assert.deepStrictEqual([...new Set(live.metadata.managedFields.map((f: ApiJson) => `${f.manager}/${f.operation}`))], ["flyte-pod-webhook/Apply"])
    const writers = auditEvents(control().auditLog)
      .filter((e) => Date.parse(e.requestReceivedTimestamp) >= startedAt)
      .filter((e) => e.objectRef?.resource === "mutatingwebhookconfigurations" && e.objectRef?.name === "flyte-pod-webhook")
      .filter((e) => e.verb === "patch" && e.responseStatus?.code < 300)
      .map((e) => e.user.username)
    assert.isAbove(writers.length, 0)
    assert.deepStrictEqual([...new Set(writers)], [control().webhook.user])
    // ...and that identity holds nothing beyond deploy/base's grant.
    const can = async (...args: Array<string>) =>
      (await kubectl(control().binDir, control().webhook.kubeconfig, ["auth", "can-i", ...args])).stdout.trim()
    assert.strictEqual(await can("patch", "mutatingwebhookconfigurations/flyte-pod-webhook"), "yes")
    assert.strictEqual(await can("patch", "mutatingwebhookconfigurations/someone-else"), "no")
    assert.strictEqual(await can("delete", "mutatingwebhookconfigurations/flyte-pod-webhook"), "no")
    assert.strictEqual(await can("get", "secrets", "-n", InstallNamespace), "no")
    assert.strictEqual(await can("create", "pods", "-n", InstallNamespace), "no")
  })

  it("scenario 7: two replicas started at once converge on one configuration, which then stays unchanged", async () => {
    const first = await api.get(ConfigurationPath)
    assert.strictEqual(first.metadata.generation, 1, "no replica rewrote the other's registration")
    const versions = [first.metadata.resourceVersion]
    for (let check = 0; check < 3; check++) {
      await sleep(CheckIntervalMs + 500)
      versions.push((await api.get(ConfigurationPath)).metadata.resourceVersion)
    }
    assert.deepStrictEqual(new Set(versions).size, 1, `resourceVersion over ${versions.length} checks: ${versions.join(", ")}`)
    for (const replica of deployment!.replicas) {
      assert.strictEqual((await Deployment.readyz(replica)).status, 200, `${replica.process.name} ready`)
      const problems = logLines(replica.process.log()).filter((l) => /registration failed/.test(l.message ?? ""))
      assert.deepStrictEqual(problems, [], `${replica.process.name} never failed to register`)
    }
  })

  it("scenario 8: SIGTERM to one replica while Pods are created; the other serves on and no creation fails", async () => {
    const namespace = await deployment!.namespace(api, "sigterm")
    const loop = new PodLoop(api, namespace, k8sPod, hasSecretEnv)
    try {
      await loop.waitFor(10)
      const [victim, survivor] = deployment!.replicas
      const before = deployment!.proxy.handed.get(victim!.port) ?? 0
      assert.isAbove(before, 0, "the terminated replica was serving before")
      const exit = await deployment!.terminate(0)
      assert.deepStrictEqual(exit, { code: 0, signal: null }, "a drained shutdown exits 0")
      await loop.waitFor(20)
      assert.isAbove(deployment!.proxy.handed.get(survivor!.port) ?? 0, 0, "the other replica served")
    } finally {
      await loop.stop()
    }
    const failures = PodLoop.failures(loop.outcomes)
    assert.deepStrictEqual(failures, [], `${failures.length} of ${loop.outcomes.length} creations failed`)
    assert.isAtLeast(loop.outcomes.length, 30)
  })

  it("unregister (as an admin: the webhook's own grant has no delete) removes the configuration; again: nothing to do", async () => {
    await deployment?.stop()
    const first = await unregister(control(), dir, "flyte-pod-webhook")
    assert.match(first.stdout, /MutatingWebhookConfiguration flyte-pod-webhook deleted/)
    assert.strictEqual((await api.request("GET", ConfigurationPath)).status, 404)
    const second = await unregister(control(), dir, "flyte-pod-webhook")
    assert.match(second.stdout, /not found; nothing to do/)
  })
})

/** auditEvents: the audit log's events (JSON lines; API-server JSON, untyped like the rest: see ApiJson). */
export const auditEvents = (file: string): ReadonlyArray<ApiJson> =>
  fs.readFileSync(file, "utf8").split("\n").filter((line) => line !== "").map((line) => JSON.parse(line))

