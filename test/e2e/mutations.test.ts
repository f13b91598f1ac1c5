/**
 * Scenarios 3, 4 and 9: Pods created through the real API server, one deployment per secret manager (each
 * registered with its own namespaceSelector, all at once), stored with exactly the mutation spec section 3
 * describes. "Exactly" is checked against the API server itself: the expected Pod, written by hand and without
 * the inject label, is defaulted by a dry-run create, and the stored Pod's spec and annotations must equal it.
 *
 * The K8s deployment (which also holds Global secrets, env and files) runs as the webhook's ServiceAccount with
 * deploy/base's RBAC and registers `flyte-pod-webhook`; the others run as an admin under their own names and
 * certificate Secret names, so they never touch the main install's objects.
 */
import { afterAll, assert, describe, it } from "vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Api } from "./harness/Api.ts"
import {
  AwsGroup,
  awsEdits,
  AzureGroup,
  azureEdits,
  dirEnv,
  type Edits,
  expectedPod,
  filePrefixEnv,
  gcpEdits,
  inputPod,
  type Json,
  k8sVolumeName,
  prefixEnv,
  secretRef,
  vaultEdits
} from "./harness/ExpectedPods.ts"
import type { Secret } from "./harness/FlyteSecret.ts"
import { adminApi, beforeAllE2e, control, describeE2e, fileDir, showLogsOnFailure } from "./harness/Suite.ts"
import { Deployment, SelectorLabel, uniqueName } from "./harness/Webhook.ts"
import { prepareCerts } from "./harness/WebhookCli.ts"
import type { ApiJson } from "./harness/Api.ts"

const GlobalEnvValue = "global-env-value-7f3a"
const GlobalFileValue = "global-file-value-91c2"

interface Deployments {
  readonly k8s: Deployment
  readonly aws: Deployment
  readonly gcp: Deployment
  readonly vault: Deployment
  readonly azure: Deployment
}

describeE2e("Pods through the real API server", () => {
  let api: Api
  let dir: string
  let certDir: string
  let all: Deployments | undefined
  const started: Array<Deployment> = []
  const logs = () => started.flatMap((d) => d.logs)
  showLogsOnFailure(logs)

  beforeAllE2e(async () => {
    api = adminApi()
    dir = fileDir("mutations")
    certDir = path.join(dir, "certs")
    await prepareCerts(control(), dir, certDir)
    fs.mkdirSync(path.join(dir, "k8s-global-secrets", "files"), { recursive: true })
    fs.writeFileSync(path.join(dir, "k8s-global-secrets", "files", "Cert"), GlobalFileValue)
    const aux = (name: string, secretManagerType: string) =>
      Deployment.startBeside({ name, ctx: control(), dir, certDir, webhook: { secretManagerType } })
        .then((d) => (started.push(d), d))
    const [k8s, aws, gcp, vault, azure] = await Promise.all([
      Deployment.start({
        name: "k8s",
        ctx: control(),
        dir,
        identity: control().webhook,
        certDir,
        env: { "FLYTE_SECRET_GLOBAL-APP_TOKEN": GlobalEnvValue }
      }).then((d) => (started.push(d), d)),
      aux("aws", "AWS"),
      aux("gcp", "GCP"),
      aux("vault", "Vault"),
      aux("azure", "Azure")
    ])
    all = { k8s: k8s!, aws: aws!, gcp: gcp!, vault: vault!, azure: azure! }
  }, logs)
  afterAll(async () => {
    await Promise.all(started.map((d) => d.stopAndUnregister()))
    api?.close()
  })

  /**
   * storedExactly creates the labelled Pod, then asks the API server to default the hand-written expected Pod
   * (no label: no webhook call) with a dry run, and compares spec and annotations.
   */
  const storedExactly = async (deployment: Deployment, secrets: ReadonlyArray<Secret>, edits: Edits) => {
    const namespace = await deployment.namespace(api, deployment.name)
    const input = inputPod("task", secrets)
    const created = await api.createPod(namespace, input)
    assert.strictEqual(created.status, 201, JSON.stringify(created.body?.message ?? created.body))
    const stored = await api.get(`/api/v1/namespaces/${namespace}/pods/task`)
    const expected = expectedPod(input, edits)
    const defaulted = await api.createPod(namespace, { ...expected, metadata: { ...expected["metadata"], name: "task-expected" } }, { dryRun: true })
    assert.strictEqual(defaulted.status, 201, `the expected Pod is valid: ${JSON.stringify(defaulted.body?.message)}`)
    assert.deepStrictEqual(stored.spec, defaulted.body.spec)
    assert.deepStrictEqual(stored.metadata.annotations, defaulted.body.metadata.annotations)
    return stored
  }

  describe("scenario 3: one Pod per manager, stored with exactly the spec's mutation", () => {
    it("K8s as env vars: secretKeyRef under the _FSEC_ name and under env_var, then the prefix", async () => {
      await storedExactly(all!.k8s, [{ group: "db-creds", key: "password", mountRequirement: "ENV_VAR", envVar: "DB_PASSWORD" }], {
        env: [secretRef("_FSEC_DB-CREDS_PASSWORD", "db-creds", "password"), secretRef("DB_PASSWORD", "db-creds", "password"), prefixEnv]
      })
    })

    it("K8s as a file: a Secret volume, read-only mount at DIR/<group>, file env vars", async () => {
      const volume = k8sVolumeName("db-creds")
      assert.strictEqual(k8sVolumeName("my-secret"), "nv3s132fmnzgk4c6", "spec's B32 example (test/fixtures/Expected.ts)")
      await storedExactly(all!.k8s, [{ group: "db-creds", key: "API_Key", mountRequirement: "FILE", envVar: "API_KEY_FILE" }], {
        volumes: [{ name: volume, secret: { secretName: "db-creds", items: [{ key: "API_Key", path: "api_key" }], optional: true } }],
        mounts: [{ name: volume, readOnly: true, mountPath: "/etc/flyte/secrets/db-creds" }],
        env: [dirEnv, filePrefixEnv, { name: "API_KEY_FILE", value: "/etc/flyte/secrets/db-creds/api_key" }]
      })
    })

    it("Global from the webhook's env: the value itself, under the _FSEC_ name", async () => {
      await storedExactly(all!.k8s, [{ group: "global-app", key: "token" }], {
        env: [prefixEnv, { name: "_FSEC_GLOBAL-APP_TOKEN", value: GlobalEnvValue }]
      })
    })

    it("Global from the webhook's secrets folder", async () => {
      await storedExactly(all!.k8s, [{ group: "files", key: "Cert", mountRequirement: "ENV_VAR" }], {
        env: [prefixEnv, { name: "_FSEC_FILES_CERT", value: GlobalFileValue }]
      })
    })

    it("AWS: in-memory volume and a puller init container", async () => {
      await storedExactly(all!.aws, [{ group: AwsGroup, key: "Api-Key" }], awsEdits("Api-Key"))
    })

    it("GCP: in-memory volume and a gcloud puller", async () => {
      await storedExactly(all!.gcp, [{ group: "Db-Pass", groupVersion: "Latest", key: "ignored" }], gcpEdits())
    })

    it("Vault: agent annotations with a stable id, file env vars", async () => {
      await storedExactly(all!.vault, [{ group: "kv/app", groupVersion: "kv1", key: "token", mountRequirement: "FILE" }], vaultEdits())
    })

    it("Azure: in-memory volume and an az puller", async () => {
      await storedExactly(all!.azure, [{ group: AzureGroup, groupVersion: "0123ABC" }], azureEdits())
    })

    it("an unlabelled Pod is stored untouched", async () => {
      const namespace = await all!.k8s.namespace(api, "unlabelled")
      const input = inputPod("plain", [{ group: "db-creds", key: "password", mountRequirement: "ENV_VAR" }], { "inject-flyte-secrets": "false" })
      const created = await api.createPod(namespace, input)
      assert.strictEqual(created.status, 201)
      const { labels: _labels, ...metadata } = input["metadata"]
      const defaulted = await api.createPod(namespace, { ...input, metadata: { ...metadata, name: "plain-expected" } }, { dryRun: true })
      assert.deepStrictEqual(created.body.spec, defaulted.body.spec)
      assert.deepStrictEqual(created.body.metadata.annotations, input["metadata"].annotations)
    })

    it("a Pod with a malformed secret annotation is refused with our message", async () => {
      const namespace = await all!.k8s.namespace(api, "malformed")
      const input: Json = inputPod("bad", [])
      input["metadata"].annotations = { "flyte.secrets/s0": "not base32 !!" }
      const refused = await api.createPod(namespace, input)
      assert.strictEqual(refused.status, 403, JSON.stringify(refused.body))
      assert.match(
        refused.body.message,
        /^admission webhook "flyte-pod-webhook\.flyte\.org" denied the request: flyte-pod-webhook: flyte\.secrets\/s0: \S/
      )
      assert.strictEqual((await api.request("GET", `/api/v1/namespaces/${namespace}/pods/bad`)).status, 404)
    })

    it("a controller-style Pod (generateName, no namespace in the object) is named and mutated", async () => {
      const namespace = await all!.k8s.namespace(api, "generated")
      const input = inputPod("unused", [{ group: "db-creds", key: "password", mountRequirement: "ENV_VAR" }])
      const { name: _name, ...metadata } = input["metadata"]
      const created = await api.createPod(namespace, { ...input, metadata: { ...metadata, generateName: "task-abc12-" } })
      assert.strictEqual(created.status, 201, JSON.stringify(created.body?.message))
      assert.match(created.body.metadata.name, /^task-abc12-[a-z0-9]{5}$/)
      assert.strictEqual(created.body.metadata.namespace, namespace)
      assert.deepInclude(created.body.spec.containers[0].env, secretRef("_FSEC_DB-CREDS_PASSWORD", "db-creds", "password"))
    })
  })

  describe("scenario 4: dry run and AdmissionReview v1beta1", () => {
    it("dryRun=All: the answer carries the mutation and nothing is stored", async () => {
      const namespace = await all!.k8s.namespace(api, "dryrun")
      const answer = await api.createPod(namespace, inputPod("dry", [{ group: "db-creds", key: "password", mountRequirement: "ENV_VAR" }]), { dryRun: true })
      assert.strictEqual(answer.status, 201)
      assert.deepInclude(answer.body.spec.containers[0].env, secretRef("_FSEC_DB-CREDS_PASSWORD", "db-creds", "password"))
      assert.strictEqual((await api.request("GET", `/api/v1/namespaces/${namespace}/pods/dry`)).status, 404)
    })

    it("a configuration that only speaks admission.k8s.io/v1beta1 gets a v1beta1 answer the API server accepts", async () => {
      const label = "k8s-v1beta1"
      const name = uniqueName("e2e-v1beta1")
      const configuration = await api.get("/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/flyte-pod-webhook")
      const webhook = configuration.webhooks[0]
      await api.ok("POST", "/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations", {
        body: {
          apiVersion: "admissionregistration.k8s.io/v1",
          kind: "MutatingWebhookConfiguration",
          metadata: { name },
          webhooks: [{ ...webhook, admissionReviewVersions: ["v1beta1"], namespaceSelector: { matchLabels: { [SelectorLabel]: label } } }]
        }
      })
      try {
        const namespace = uniqueName("v1beta1")
        await api.createNamespace(namespace, { [SelectorLabel]: label })
        const secret: Secret = { group: "db-creds", key: "password", mountRequirement: "ENV_VAR" }
        const pod = inputPod("beta", [secret])
        // The API server picks the new configuration up asynchronously: dry runs until it calls us.
        let answer: ApiJson
        for (let attempt = 0; attempt < 40; attempt++) {
          answer = await api.createPod(namespace, pod, { dryRun: true })
          if (answer.status !== 201 || answer.body.spec.containers[0].env.length > 1) break
          await new Promise((resolve) => setTimeout(resolve, 250))
        }
        assert.strictEqual(answer.status, 201, JSON.stringify(answer.body?.message))
        assert.deepInclude(answer.body.spec.containers[0].env, secretRef("_FSEC_DB-CREDS_PASSWORD", "db-creds", "password"))
        const created = await api.createPod(namespace, pod)
        assert.strictEqual(created.status, 201)
        assert.deepInclude(created.body.spec.containers[0].env, prefixEnv)
      } finally {
        await api.ok("DELETE", `/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/${name}`)
      }
    })
  })

  describe("scenario 9: audit log at level Request", () => {
    it("holds no Kubernetes-managed secret value, and our injected-secrets annotation names secrets only", async () => {
      const namespace = await all!.k8s.namespace(api, "audit")
      const value = `s3cr3t-${Math.random().toString(36).slice(2)}-value`
      await api.ok("POST", `/api/v1/namespaces/${namespace}/secrets`, {
        body: { apiVersion: "v1", kind: "Secret", metadata: { name: "audit-creds" }, stringData: { password: value, "API_Key": value } }
      })
      const created = await api.createPod(namespace, inputPod("audited", [
        { group: "audit-creds", key: "password", mountRequirement: "ENV_VAR" },
        { group: "audit-creds", key: "API_Key", mountRequirement: "FILE" }
      ]))
      assert.strictEqual(created.status, 201, JSON.stringify(created.body?.message))

      const log = fs.readFileSync(control().auditLog, "utf8")
      const events = log.split("\n").filter((l) => l !== "").map((l) => JSON.parse(l))
      const create = events.find((e) =>
        e.verb === "create" && e.objectRef?.resource === "pods" && e.objectRef?.namespace === namespace && e.objectRef?.name === "audited"
      )
      assert.isDefined(create, "the Pod's create is audited")
      assert.strictEqual(create.level, "Request")
      const patch = Object.entries(create.annotations ?? {}).find(([key]) => key.startsWith("patch.webhook.admission.k8s.io/"))
      assert.isDefined(patch, "the API server logged our patch (so a value in it would be visible)")
      assert.include(String(patch![1]), "audit-creds")
      assert.strictEqual(create.annotations["flyte-pod-webhook.flyte.org/injected-secrets"], "audit-creds/password,audit-creds/API_Key")

      for (const needle of [value, Buffer.from(value).toString("base64")]) {
        assert.notInclude(log, needle, "a Kubernetes-managed secret value in the audit log")
      }
      const caKey = fs.readFileSync(path.join(certDir, "ca.key"), "utf8").split("\n")[1]!
      assert.notInclude(log, caKey.slice(0, 40), "the webhook's CA key in the audit log")
    })
  })

  // With every deployment registered at once, an exact stored mutation above also shows no other deployment
  // touched that Pod (their namespaceSelectors did not match); here, that each one was reached.
  it("every deployment was called through its own registration", () => {
    for (const deployment of started) {
      assert.isAbove([...deployment.proxy.handed.values()].reduce((a, b) => a + b, 0), 0, deployment.name)
    }
  })
})
