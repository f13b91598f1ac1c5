/**
 * `flyte-pod-webhook doctor` against the real kube-apiserver, run as the real CLI:
 *  - a healthy install passes every check (exit 0), run as the ServiceAccount deploy/components/doctor grants,
 *    so that component is shown to be enough;
 *  - a missing RBAC verb of the webhook's ServiceAccount is named (check 4);
 *  - a namespace excluded by the namespaceSelector is named (check 5, "webhook not called");
 *  - the caBundle replaced by another CA fails check 2, naming both fingerprints;
 *  - a webhook stopped under failurePolicy Ignore: check 5 says "webhook not called", with the API server's
 *    fail-open counter as evidence;
 *  - credentials with no access: exit 2, naming the grant.
 *
 * The main deployment is registered as the webhook's ServiceAccount with deploy/base's RBAC, in URL mode
 * (docs/e2e.md). This API server runs no controllers, so no Service ever gets endpoints: the test creates
 * the Service and an EndpointSlice by hand, as the EndpointSlice controller would for two ready replicas.
 * The slice's addresses are from TEST-NET-1 (192.0.2.0/24; the API server refuses loopback endpoint
 * addresses) and are never contacted: doctor only reads readiness and ports there, and with a URL
 * registration it checks the URL itself (check 2's handshake, check 5's dry run).
 *
 * SHOW_DOCTOR=1 prints the text reports; they are also written to the run folder (doctor/*.txt).
 */
import { afterAll, assert, it } from "vitest"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import * as YAML from "yaml"
import type { Api, Identity } from "./harness/Api.ts"
import { InstallNamespace } from "./harness/ControlPlane.ts"
import { serviceAccountIdentity } from "./harness/Identities.ts"
import { makeCa } from "./harness/Pki.ts"
import { adminApi, beforeAllE2e, control, describeE2e, fileDir, showLogsOnFailure } from "./harness/Suite.ts"
import { cli, describeRun, kubectl, RepoRoot } from "./harness/Tools.ts"
import { Deployment, uniqueName } from "./harness/Webhook.ts"
import { prepareCerts } from "./harness/WebhookCli.ts"
import type { ApiJson } from "./harness/Api.ts"

const ConfigurationPath = "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/flyte-pod-webhook"
const fingerprint = (pem: string) => new crypto.X509Certificate(pem).fingerprint256

interface Doctor {
  readonly code: number
  readonly text: string
  readonly report: ApiJson
}

describeE2e("doctor on a live installation", () => {
  let api: Api
  let dir: string
  let certDir: string
  let main: Deployment | undefined
  let doctorIdentity: Identity
  let selected: string
  showLogsOnFailure(() => main?.logs ?? [])

  /** doctor: one run with `-o json` (asserted on) and one in text (kept, and shown with SHOW_DOCTOR=1). */
  const doctor = async (label: string, config: string, namespace: string, identity: Identity = control().admin): Promise<Doctor> => {
    const env = { KUBECONFIG: identity.kubeconfig, POD_NAMESPACE: InstallNamespace }
    const args = ["doctor", "--config", config, "--namespace", namespace]
    const [json, text] = await Promise.all([cli([...args, "-o", "json"], env, { timeoutMs: 90_000 }), cli(args, env, { timeoutMs: 90_000 })])
    fs.writeFileSync(path.join(dir, `${label}.txt`), `$ flyte-pod-webhook ${args.join(" ")}   # exit ${text.code}\n${text.stdout}${text.stderr}`)
    if (process.env["SHOW_DOCTOR"] === "1") console.log(`--- doctor: ${label} (exit ${text.code})\n${text.stdout}${text.stderr}`)
    assert.strictEqual(json.code, text.code, describeRun("doctor -o json vs text", json))
    let report: ApiJson
    try {
      report = JSON.parse(json.stdout)
    } catch {
      throw new Error(describeRun("doctor -o json", json))
    }
    return { code: json.code, text: text.stdout, report }
  }
  const messages = (d: Doctor, id: number): ReadonlyArray<string> =>
    d.report.checks.find((c: ApiJson) => c.id === id).findings.map((f: ApiJson) => `${f.status} ${f.message}`)

  beforeAllE2e(async () => {
    api = adminApi()
    dir = fileDir("doctor")
    certDir = path.join(dir, "certs")
    await prepareCerts(control(), dir, certDir)
    // registrationCheckInterval 1h: the caBundle scenario's edit stays until the test puts it back
    main = await Deployment.start({
      name: "doctor", ctx: control(), dir, identity: control().webhook, certDir, webhook: { registrationCheckInterval: "1h" }
    })
    await api.ok("POST", `/api/v1/namespaces/${InstallNamespace}/services`, {
      body: { apiVersion: "v1", kind: "Service", metadata: { name: "flyte-pod-webhook" }, spec: { ports: [{ name: "https", port: 443, targetPort: "https" }] } }
    })
    await api.ok("POST", `/apis/discovery.k8s.io/v1/namespaces/${InstallNamespace}/endpointslices`, {
      body: {
        apiVersion: "discovery.k8s.io/v1",
        kind: "EndpointSlice",
        metadata: { name: "flyte-pod-webhook-by-hand", labels: { "kubernetes.io/service-name": "flyte-pod-webhook" } },
        addressType: "IPv4",
        ports: [{ name: "https", port: 9443, protocol: "TCP" }],
        endpoints: ["192.0.2.10", "192.0.2.11"].map((ip, i) => ({ addresses: [ip], conditions: { ready: true }, targetRef: { kind: "Pod", name: `flyte-pod-webhook-${i}`, namespace: InstallNamespace } }))
      }
    })
    // deploy/components/doctor for the install namespace, and its dry-run grant in the test namespace
    doctorIdentity = serviceAccountIdentity(control(), InstallNamespace, "flyte-pod-webhook-doctor", dir)
    const overlay = path.join(dir, "kustomize-doctor")
    fs.mkdirSync(overlay, { recursive: true })
    fs.writeFileSync(path.join(overlay, "kustomization.yaml"), YAML.stringify({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      namespace: InstallNamespace,
      components: [path.relative(overlay, path.join(RepoRoot, "deploy", "components", "doctor"))]
    }))
    const rendered = await kubectl(control().binDir, control().admin.kubeconfig, ["kustomize", overlay])
    assert.strictEqual(rendered.code, 0, describeRun("kubectl kustomize deploy/components/doctor", rendered))
    const applied = await kubectl(control().binDir, control().admin.kubeconfig, ["apply", "--server-side", "-f", "-"], { input: rendered.stdout })
    assert.strictEqual(applied.code, 0, describeRun("kubectl apply deploy/components/doctor", applied))
    selected = await main.namespace(api, "doctor-ok")
    await api.ok("POST", `/apis/rbac.authorization.k8s.io/v1/namespaces/${selected}/rolebindings`, {
      body: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "flyte-pod-webhook-doctor-dry-run" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "flyte-pod-webhook-doctor-dry-run" },
        subjects: [{ kind: "ServiceAccount", name: "flyte-pod-webhook-doctor", namespace: InstallNamespace }]
      }
    })
  }, () => main?.logs ?? [])

  afterAll(async () => {
    await main?.stopAndUnregister()
    await api?.request("DELETE", `/apis/discovery.k8s.io/v1/namespaces/${InstallNamespace}/endpointslices/flyte-pod-webhook-by-hand`)
    await api?.request("DELETE", `/api/v1/namespaces/${InstallNamespace}/services/flyte-pod-webhook`)
    api?.close()
  })

  it("a healthy install passes every check (as deploy/components/doctor's ServiceAccount): exit 0", async () => {
    const result = await doctor("healthy", main!.configFor(0), selected, doctorIdentity)
    assert.deepStrictEqual(result.report.checks.map((c: ApiJson) => c.status), ["pass", "pass", "pass", "pass", "pass"], result.text)
    assert.strictEqual(result.code, 0)
    assert.match(messages(result, 5)[0]!, /^pass injected: \d+ additions, as the offline engine computes \(.*_FSEC_FLYTE-POD-WEBHOOK-DOCTOR_PROBE/)
    assert.include(messages(result, 2).join("\n"), `${main!.url} serves`)
    assert.include(messages(result, 3).join("\n"), "pass Service flyte/flyte-pod-webhook:443 has 2 ready endpoints")
  })

  it("a missing RBAC verb of the webhook's ServiceAccount is named", async () => {
    const patch = (verbs: ReadonlyArray<string>) =>
      kubectl(control().binDir, control().admin.kubeconfig, ["-n", InstallNamespace, "patch", "role", "flyte-pod-webhook", "--type=json", "-p", JSON.stringify([{ op: "replace", path: "/rules/0/verbs", value: verbs }])])
    assert.strictEqual((await patch(["get"])).code, 0)
    try {
      const result = await doctor("missing-verb", main!.configFor(0), selected)
      assert.include(messages(result, 4), "fail system:serviceaccount:flyte:flyte-pod-webhook lacks update on secrets \"flyte-pod-webhook-secret\" in namespace flyte")
      assert.strictEqual(result.code, 1)
    } finally {
      assert.strictEqual((await patch(["get", "update"])).code, 0)
    }
  })

  it("a namespace excluded by the namespaceSelector is named", async () => {
    const excluded = uniqueName("doctor-excluded")
    await api.createNamespace(excluded, { team: "data" })
    const result = await doctor("excluded-namespace", main!.configFor(0), excluded)
    assert.strictEqual(
      messages(result, 5)[0],
      `fail webhook not called: namespace ${excluded} (labels {"kubernetes.io/metadata.name":"${excluded}","team":"data"}) is excluded by namespaceSelector {"matchLabels":{"e2e.flyte.org/webhook":"doctor"}}`
    )
    assert.strictEqual(result.code, 1)
  })

  it("credentials without access: exit 2, naming what to grant", async () => {
    const nobody = serviceAccountIdentity(control(), InstallNamespace, "nobody", dir)
    const result = await doctor("no-access", main!.configFor(0), selected, nobody)
    assert.strictEqual(result.code, 2)
    assert.match(messages(result, 1)[0]!, /^unknown MutatingWebhookConfiguration flyte-pod-webhook not read: .*forbidden/)
    assert.match(result.report.checks[0].findings[0].fix, /grant "get" on mutatingwebhookconfigurations\.admissionregistration\.k8s\.io "flyte-pod-webhook"/)
  })

  it("the caBundle replaced with another CA fails check 2, naming both fingerprints", async () => {
    const live = await api.get(ConfigurationPath)
    const other = makeCa("another CA", 400)
    await api.ok("PATCH", ConfigurationPath, {
      contentType: "application/json-patch+json",
      body: [{ op: "replace", path: "/webhooks/0/clientConfig/caBundle", value: Buffer.from(other.certPem).toString("base64") }]
    })
    const result = await doctor("cabundle-replaced", main!.configFor(0), selected)
    const failures = messages(result, 2).filter((m) => m.startsWith("fail ")).join("\n")
    assert.include(failures, fingerprint(other.certPem), "the registered CA")
    assert.include(failures, fingerprint(fs.readFileSync(path.join(certDir, "tls.crt"), "utf8")), "the served certificate")
    assert.include(failures, fingerprint(fs.readFileSync(path.join(certDir, "ca.crt"), "utf8")), "the Secret's CA that signed it")
    assert.strictEqual(result.report.checks[0].status, "pass", "check 1 leaves the caBundle to check 2")
    assert.strictEqual(result.code, 1)
    assert.notStrictEqual(live.webhooks[0].clientConfig.caBundle, Buffer.from(other.certPem).toString("base64"))
  })

  it("the webhook stopped under failurePolicy Ignore: check 5 says 'webhook not called', with the fail-open count", async () => {
    const ignoreDir = fileDir("doctor-ignore")
    const ignoreCerts = path.join(ignoreDir, "certs")
    await prepareCerts(control(), ignoreDir, ignoreCerts)
    const ignore = await Deployment.startBeside({ name: "doctor-ignore", ctx: control(), dir: ignoreDir, certDir: ignoreCerts, webhook: { failurePolicy: "Ignore" } })
    try {
      const namespace = await ignore.namespace(api, "doctor-ignore")
      await ignore.stop()
      const result = await doctor("stopped-ignore", ignore.configFor(0), namespace)
      // The counter is per webhook name across the API server (no configuration label), and the API server may
      // count a reinvocation (reinvocationPolicy IfNeeded) as a second fail-open: one CI run saw 2. Any rise is the evidence.
      assert.match(
        messages(result, 5)[0]!,
        /^fail webhook not called: the call failed and failurePolicy Ignore admitted the Pod without its secrets \(apiserver_admission_webhook_fail_open_count for flyte-pod-webhook\.flyte\.org rose by [1-9]\d*\)$/
      )
      assert.match(messages(result, 2).join("\n"), /fail no TLS handshake with https:\/\/127\.0\.0\.1:\d+\/mutate--v1-pod: ECONNREFUSED/)
      assert.strictEqual(result.code, 1)
    } finally {
      await ignore.stopAndUnregister()
    }
  })
})
