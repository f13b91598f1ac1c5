/**
 * `serve` started as users start it: without a certificate it says, once, what to run; `serve --embedded`
 * (`npm start`) works from any folder, its files found in the package rather than the working folder.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as https from "node:https"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import { baseEnv, bin, runCli, sleep } from "./support.ts"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-serve-cli-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe.concurrent("serve without a certificate", () => {
  it("exit 1 and one message naming certDir and the three ways out", async () => {
    const certDir = path.join(tmp, "no-certs")
    fs.mkdirSync(certDir)
    const config = path.join(tmp, "no-certs.yaml")
    fs.writeFileSync(config, `webhook:\n  certDir: ${certDir}\n  listenAddress: 127.0.0.1\n  listenPort: 0\n  probePort: 0\n`)
    const r = await runCli(["serve", "--config", config])
    assert.strictEqual(r.code, 1)
    assert.strictEqual(
      r.stderr,
      `serve: no serving certificate: tls.crt and tls.key not found in ${certDir} (webhook.certDir). ` +
        "Run `flyte-pod-webhook serve --embedded` to try it locally with a throwaway certificate, " +
        "`flyte-pod-webhook init-certs` with webhook.localCert: true to create one, " +
        "or point webhook.certDir at the folder where the certificate Secret is mounted.\n"
    )
  })

  it("a certificate that exists but cannot be used says so, once", async () => {
    const certDir = path.join(tmp, "bad-certs")
    fs.mkdirSync(certDir)
    fs.writeFileSync(path.join(certDir, "tls.crt"), "not a certificate\n")
    fs.writeFileSync(path.join(certDir, "tls.key"), "not a key\n")
    const config = path.join(tmp, "bad-certs.yaml")
    fs.writeFileSync(config, `webhook:\n  certDir: ${certDir}\n  listenAddress: 127.0.0.1\n  listenPort: 0\n  probePort: 0\n`)
    const r = await runCli(["serve", "--config", config])
    assert.strictEqual(r.code, 1)
    assert.match(r.stderr, new RegExp(`^serve: the serving certificate in ${certDir} cannot be used: tls\\.crt is not a PEM certificate`))
    assert.lengthOf(r.stderr.trim().split("\n"), 1)
  })
})

/** portFree: nothing listens on 127.0.0.1:port right now. */
const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = net.createServer().once("error", () => resolve(false))
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)))
  })

const post = (url: string, ca: Buffer, body: Buffer) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = https.request(url, { method: "POST", ca, headers: { "content-type": "application/json" } }, (res) => {
      let text = ""
      res.setEncoding("utf8").on("data", (c: string) => (text += c)).on("end", () => resolve({ status: res.statusCode ?? 0, body: text }))
    })
    req.on("error", reject).end(body)
  })

describe("serve --embedded from another folder", () => {
  it("finds its config, certificates and example secrets in the package; the printed curl works", async (ctx) => {
    // The embedded config serves on 9443 and 10254; skip (saying why) when someone on this machine holds them.
    if (!(await portFree(9443)) || !(await portFree(10254))) return ctx.skip("127.0.0.1:9443 or :10254 is in use")
    const elsewhere = fs.mkdtempSync(path.join(tmp, "elsewhere-"))
    const child = spawn(process.execPath, [bin, "serve", "--embedded"], { cwd: elsewhere, env: baseEnv })
    let stderr = ""
    child.stderr.setEncoding("utf8").on("data", (c: string) => (stderr += c))
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
    try {
      for (let i = 0; !stderr.includes("https://127.0.0.1:9443/mutate"); i++) {
        if (child.exitCode !== null || i > 1200) assert.fail(`serve --embedded did not start:\n${stderr}`)
        await sleep(50)
      }
      const ca = /--cacert (\S+)/.exec(stderr)?.[1] ?? ""
      const review = /--data @(\S+)/.exec(stderr)?.[1] ?? ""
      assert.isTrue(path.isAbsolute(ca) && fs.existsSync(ca), `the printed CA ${ca} exists`)
      assert.isTrue(path.isAbsolute(review) && fs.existsSync(review), `the printed review ${review} exists`)
      assert.isFalse(fs.existsSync(path.join(elsewhere, ".local")), "nothing written into the working folder")
      const answer = await post("https://127.0.0.1:9443/mutate", fs.readFileSync(ca), fs.readFileSync(review))
      assert.strictEqual(answer.status, 200)
      const response = (JSON.parse(answer.body) as { response: { allowed: boolean; auditAnnotations: Record<string, string> } }).response
      assert.isTrue(response.allowed)
      // example/greeting comes from the package's deploy/examples/global-secrets, not from the working folder.
      assert.strictEqual(response.auditAnnotations["injected-secrets"], "db-creds/password,example/greeting")
    } finally {
      child.kill("SIGTERM")
    }
    assert.strictEqual(await exited, 0)
  })
})
