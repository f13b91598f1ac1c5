/**
 * `init-certs` and `unregister` as an operator runs them: child processes (`node src/main.ts ...`) with a
 * kubeconfig pointing at the HTTPS fake API server, checked by exit code, output and the objects they leave.
 */
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fromSecretData } from "../../src/services/certs/CertMaterial.ts"
import { type FakeApiServer, startFakeApiServer } from "../kube/FakeApiServer.ts"
import { x509 } from "./fixtures.ts"

let api: FakeApiServer
let kubeconfig: string
let dir: string

beforeAll(async () => {
  api = await startFakeApiServer()
  kubeconfig = api.writeKubeconfig()
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "init-certs-"))
})
afterAll(async () => {
  await api.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

const writeConfig = (name: string, webhook: Record<string, unknown>) => {
  const file = path.join(dir, `${name}.yaml`)
  fs.writeFileSync(file, JSON.stringify({ webhook: { caKeySize: 2048, ...webhook } }))
  return file
}

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

const run = (args: ReadonlyArray<string>, namespace: string) =>
  new Promise<Run>((resolve) => {
    const child = spawn(process.execPath, ["src/main.ts", ...args], {
      env: { ...process.env, KUBECONFIG: kubeconfig, POD_NAMESPACE: namespace },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

const fingerprintIn = (output: string, label: string) => new RegExp(`${label}: .*sha256=([0-9A-F:]+)`).exec(output)?.[1]
const secretIn = (namespace: string) => fromSecretData(api.control.secret(namespace, "flyte-pod-webhook-secret")?.data)

describe("init-certs", () => {
  it("two runs at once: one CA wins, both exit 0 and print the same certificates; a third run writes nothing", async () => {
    const config = writeConfig("plain", {})
    api.control.barrier("getSecret", 2) // both read "absent" before either creates
    const [a, b] = await Promise.all([run(["init-certs", "--config", config], "race"), run(["init-certs", "--config", config], "race")])
    assert.strictEqual(a.code, 0, a.stderr)
    assert.strictEqual(b.code, 0, b.stderr)
    const actions = [a, b].map((r) => /Secret race\/flyte-pod-webhook-secret (\w+)/.exec(r.stdout)?.[1]).sort()
    assert.deepStrictEqual(actions, ["created", "unchanged"])
    const stored = secretIn("race")
    const ca = x509(stored.caCrt).fingerprint256
    assert.strictEqual(fingerprintIn(a.stdout, "CA 1/1"), ca)
    assert.strictEqual(fingerprintIn(b.stdout, "CA 1/1"), ca)
    assert.strictEqual(fingerprintIn(a.stdout, "serving"), x509(stored.tlsCrt).fingerprint256)
    assert.include(a.stdout, "SANs=flyte-pod-webhook,flyte-pod-webhook.race,flyte-pod-webhook.race.svc")
    for (const output of [a.stdout, a.stderr, b.stdout, b.stderr]) assert.notInclude(output, "PRIVATE KEY")

    const writesBefore = api.requests.filter((r) => r.method !== "GET").length
    const again = await run(["init-certs", "--config", config], "race")
    assert.strictEqual(again.code, 0, again.stderr)
    assert.include(again.stdout, "Secret race/flyte-pod-webhook-secret unchanged")
    assert.strictEqual(api.requests.filter((r) => r.method !== "GET").length, writesBefore)
  }, 60_000)

  it("webhook.localCert also writes the files, keys mode 0600", async () => {
    const certDir = path.join(dir, "certs")
    const config = writeConfig("local", { localCert: true, certDir })
    const result = await run(["init-certs", "--config", config], "local")
    assert.strictEqual(result.code, 0, result.stderr)
    const stored = secretIn("local")
    const mode = (file: string) => fs.statSync(path.join(certDir, file)).mode & 0o777
    assert.strictEqual(mode("tls.key"), 0o600)
    assert.strictEqual(mode("ca.key"), 0o600)
    assert.strictEqual(mode("tls.crt"), 0o644)
    assert.strictEqual(fs.readFileSync(path.join(certDir, "ca.crt"), "utf8"), stored.caCrt)
    assert.strictEqual(fs.readFileSync(path.join(certDir, "tls.key"), "utf8"), stored.tlsKey)
  }, 60_000)

  it("refused by RBAC: exit 1 naming the rule to grant", async () => {
    api.control.failNext("getSecret", "Forbidden")
    const result = await run(["init-certs", "--config", writeConfig("plain", {})], "denied")
    assert.strictEqual(result.code, 1)
    assert.include(result.stderr, `grant "get" on secrets "flyte-pod-webhook-secret" in namespace denied`)
  }, 60_000)
})

describe("unregister", () => {
  it("deletes the configuration; absent is fine (exit 0 both times)", async () => {
    const config = writeConfig("plain", {})
    api.control.putWebhookConfiguration({ metadata: { name: "flyte-pod-webhook" }, webhooks: [] })
    const deleted = await run(["unregister", "--config", config], "flyte")
    assert.strictEqual(deleted.code, 0, deleted.stderr)
    assert.include(deleted.stdout, "MutatingWebhookConfiguration flyte-pod-webhook deleted")
    assert.isUndefined(api.control.webhookConfiguration("flyte-pod-webhook"))
    const absent = await run(["unregister", "--config", config], "flyte")
    assert.strictEqual(absent.code, 0, absent.stderr)
    assert.include(absent.stdout, "not found; nothing to do")
  }, 60_000)
})
