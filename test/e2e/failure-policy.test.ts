/**
 * Scenario 5: the webhook stopped. Two deployments register themselves with `webhook.failurePolicy` Fail and
 * Ignore, are seen serving, and are then stopped (replicas SIGTERMed, the Service stand-in closed, so the API
 * server's calls find nothing listening). Under Fail the Pod is refused; under Ignore it is stored unmutated,
 * and the API server records that it failed open.
 */
import { afterAll, assert, it } from "vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Api } from "./harness/Api.ts"
import { inputPod, hasEnv } from "./harness/ExpectedPods.ts"
import { adminApi, beforeAllE2e, control, describeE2e, fileDir, showLogsOnFailure } from "./harness/Suite.ts"
import { Deployment } from "./harness/Webhook.ts"
import { prepareCerts } from "./harness/WebhookCli.ts"
import type { ApiJson } from "./harness/Api.ts"

describeE2e("scenario 5: failurePolicy with the webhook stopped", () => {
  let api: Api
  let fail: Deployment | undefined
  let ignore: Deployment | undefined
  const logs = () => [...(fail?.logs ?? []), ...(ignore?.logs ?? [])]
  showLogsOnFailure(logs)

  beforeAllE2e(async () => {
    api = adminApi()
    const dir = fileDir("failure-policy")
    const certDir = path.join(dir, "certs")
    await prepareCerts(control(), dir, certDir)
    const start = (name: string, failurePolicy: string) =>
      Deployment.startBeside({ name, ctx: control(), dir, certDir, webhook: { failurePolicy } })
    ;[fail, ignore] = await Promise.all([start("fail", "Fail"), start("ignore", "Ignore")])
  }, logs)
  afterAll(async () => {
    await Promise.all([fail?.stopAndUnregister(), ignore?.stopAndUnregister()])
    api?.close()
  })

  const secretPod = (name: string) => inputPod(name, [{ group: "db-creds", key: "password", mountRequirement: "ENV_VAR" }])
  const mutated = (pod: ApiJson) => hasEnv(pod, "_FSEC_DB-CREDS_PASSWORD")

  it("registered as configured, and mutating while up", async () => {
    for (const [deployment, policy] of [[fail!, "Fail"], [ignore!, "Ignore"]] as const) {
      const live = await api.get(`/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${deployment.serviceName}`)
      assert.strictEqual(live.webhooks[0].failurePolicy, policy)
      const namespace = await deployment.namespace(api, `up-${deployment.name}`)
      const created = await api.createPod(namespace, secretPod("up"))
      assert.strictEqual(created.status, 201)
      assert.isTrue(mutated(created.body), `${deployment.name} mutates while it runs`)
    }
  })

  it("Fail refuses the Pod and Ignore stores it unmutated once the webhook is gone", async () => {
    const failNamespace = await fail!.namespace(api, "down-fail")
    const ignoreNamespace = await ignore!.namespace(api, "down-ignore")
    await Promise.all([fail!.stop(), ignore!.stop()])

    const refused = await api.createPod(failNamespace, secretPod("refused"))
    assert.strictEqual(refused.status, 500, JSON.stringify(refused.body))
    assert.match(refused.body.message, /failed calling webhook "flyte-pod-webhook\.flyte\.org"/)
    assert.strictEqual((await api.request("GET", `/api/v1/namespaces/${failNamespace}/pods/refused`)).status, 404)

    const admitted = await api.createPod(ignoreNamespace, secretPod("admitted"))
    assert.strictEqual(admitted.status, 201, JSON.stringify(admitted.body?.message))
    assert.isFalse(mutated(admitted.body), "stored without the secret")
    assert.deepStrictEqual(admitted.body.spec.containers[0].env, [{ name: "EXISTING", value: "1" }])

    const events = fs.readFileSync(control().auditLog, "utf8").split("\n").filter((l) => l.includes(ignoreNamespace)).map((l) => JSON.parse(l))
    const create = events.find((e) => e.verb === "create" && e.objectRef?.name === "admitted")
    assert.isDefined(create)
    assert.isTrue(
      Object.keys(create.annotations ?? {}).some((key) => key.startsWith("failed-open.mutation.webhook.admission.k8s.io/")),
      `the API server recorded the fail-open: ${JSON.stringify(create.annotations)}`
    )
  })
})
