/**
 * init-certs and unregister against an API server that is not there: exit 1 with one line naming the server's
 * URL and the socket error (not "fetch failed"), after the client's retries (src/kube/KubeClient.ts,
 * CommandCallPolicy; its 20 s budget for a server that accepts and never answers is tested in
 * test/kube/LiveTransport.test.ts).
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import { runCli } from "./support.ts"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-cluster-cli-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** closedPort: a loopback port nothing listens on (bound once, then released). */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

const kubeconfig = (server: string) => {
  const file = path.join(tmp, `kubeconfig-${server.replace(/\W/g, "_")}`)
  fs.writeFileSync(file, [
    "apiVersion: v1",
    "kind: Config",
    `clusters: [{name: c, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]`,
    "users: [{name: u, user: {token: not-a-real-token}}]",
    "contexts: [{name: x, context: {cluster: c, user: u}}]",
    "current-context: x",
    ""
  ].join("\n"))
  return file
}

describe.concurrent("an API server that is not there", () => {
  it.each([
    ["init-certs", 'init-certs: get secrets "flyte-pod-webhook-secret" in namespace flyte: '],
    ["unregister", 'unregister: delete mutatingwebhookconfigurations.admissionregistration.k8s.io "flyte-pod-webhook": ']
  ])("%s names the URL and the cause", async (command, prefix) => {
    const port = await closedPort()
    const r = await runCli([command], { env: { KUBECONFIG: kubeconfig(`https://127.0.0.1:${port}`) } })
    assert.strictEqual(r.code, 1)
    assert.strictEqual(r.stdout, "")
    assert.strictEqual(r.stderr, `${prefix}API server https://127.0.0.1:${port} unreachable: connect ECONNREFUSED 127.0.0.1:${port}\n`)
  })

  it("a name that does not resolve", async () => {
    const r = await runCli(["unregister"], { env: { KUBECONFIG: kubeconfig("https://api.does-not-exist.invalid:6443") } })
    assert.strictEqual(r.code, 1)
    assert.match(r.stderr, /API server https:\/\/api\.does-not-exist\.invalid:6443 unreachable: getaddrinfo (ENOTFOUND|EAI_AGAIN) api\.does-not-exist\.invalid\n$/)
  })
})
