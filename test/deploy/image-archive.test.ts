/**
 * The image itself: deploy/image/build.sh builds it (cached after the first time; the e2e global setup starts
 * it early), then it is read with the tools a registry user would use and started the way a runtime would.
 *   - skopeo reads the archive: digest, user, entrypoint, command, env, working directory, ports, labels, and
 *     each of them is what the Dockerfile says;
 *   - umoci unpacks it: /app holds exactly what the Dockerfile copies plus production node_modules (none of the
 *     lock's dev-only packages), no package manager and no package-manager cache or list anywhere, only the
 *     Debian runtime packages, the user's passwd line, root-owned read-only app files;
 *   - the SBOM covers every installed npm and Debian package;
 *   - deploy/image/run.sh starts the entrypoint with deploy/base's config as uid 65532, pid 1, no capabilities,
 *     no_new_privs, read-only root: it answers /readyz and the example review over HTTPS, and exits 0 on SIGTERM;
 *   - a second build from the same inputs gives the same digest.
 * Where build.sh cannot build (not root, or the Debian tools cannot be installed: exit 3) every test is skipped
 * with build.sh's reason.
 */
import { execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as https from "node:https"
import * as net from "node:net"
import * as os from "node:os"
import * as path from "node:path"
import { assert, beforeAll, describe, it, type TestContext } from "vitest"
import * as YAML from "yaml"
import * as Layout from "../../deploy/image/Layout.ts"
import { issue, makeCa } from "../e2e/harness/Pki.ts"
import { dockerfileInstructions } from "./Dockerfile.ts"
import { buildImage, type ImageBuild, imageCommand, unpackScript } from "./ImageBuild.ts"
import { repoRoot } from "./Manifests.ts"

const MiB = 1024 * 1024
let build: ImageBuild | undefined
let rootfs = ""

const built = (ctx: TestContext) => {
  if (build?._tag !== "Built") {
    ctx.skip(build?.reason ?? "the image was not built")
    throw new Error("unreachable")
  }
  return build
}
const run = (command: string, args: ReadonlyArray<string>) =>
  execFileSync(command, [...args], { encoding: "utf8", maxBuffer: 64 * MiB, stdio: ["ignore", "pipe", "pipe"] })
const inImage = (file: string) => path.join(rootfs, file)
const dockerfile = dockerfileInstructions()
const dockerLast = (op: string) => dockerfile.filter((i) => i.op === op).at(-1)?.args ?? ""

/** walk: the files under `dir`, relative and sorted (directories not listed). */
const walk = (dir: string): ReadonlyArray<string> =>
  (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as Array<fs.Dirent>)
    .filter((entry) => !entry.isDirectory())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort()

/** walkAll: every entry under `dir` (files, links, directories), absolute. */
const walkAll = (dir: string): ReadonlyArray<string> =>
  (fs.readdirSync(dir, { recursive: true, withFileTypes: true }) as Array<fs.Dirent>).map((entry) => path.join(entry.parentPath, entry.name))

beforeAll(async () => {
  build = await buildImage()
  if (build._tag !== "Built") return console.warn(`SKIPPED: ${build.reason}`)
  const { record } = build
  console.log(
    `image ${record.manifestDigest}: archive ${(record.archiveBytes / MiB).toFixed(1)} MiB, layers ` +
      `${record.layers.map((l) => `${l.name} ${(l.bytes / MiB).toFixed(1)}`).join(", ")} MiB compressed; ` +
      `${(record.uncompressedBytes / MiB).toFixed(1)} MiB unpacked; build.sh ${build.seconds.toFixed(1)} s (${record.timingsSeconds})`
  )
  // umoci's unpacking, once per digest and shared with run.sh (deploy/image/unpack.sh); read here, never written.
  rootfs = path.join(run("bash", [unpackScript, build.archive]).trim(), "rootfs")
}, 20 * 60_000)

describe("the image archive, as skopeo reads it", () => {
  it("has the digest build.sh printed, and the Dockerfile's user, entrypoint, command, env, workdir and ports", (ctx) => {
    const { archive, record } = built(ctx)
    const inspect = JSON.parse(run("skopeo", ["inspect", `oci-archive:${archive}`])) as { Digest: string; Labels: Record<string, string> }
    assert.strictEqual(inspect.Digest, record.manifestDigest)
    const { config } = JSON.parse(run("skopeo", ["inspect", "--config", `oci-archive:${archive}`])) as {
      config: { User: string; Entrypoint: Array<string>; Cmd: Array<string>; Env: Array<string>; WorkingDir: string; ExposedPorts: Record<string, object> }
    }
    assert.strictEqual(config.User, dockerLast("USER"))
    assert.deepStrictEqual(config.Entrypoint, JSON.parse(dockerLast("ENTRYPOINT")))
    assert.deepStrictEqual(config.Cmd, JSON.parse(dockerLast("CMD")))
    assert.strictEqual(config.WorkingDir, dockerLast("WORKDIR"))
    assert.sameMembers(Object.keys(config.ExposedPorts), dockerLast("EXPOSE").split(" ").map((p) => `${p}/tcp`))
    const dockerEnv = dockerfile.filter((i) => i.op === "ENV").map((i) => i.args.replace(/^(\w+)="(.*)"$/, "$1=$2"))
    assert.deepStrictEqual(config.Env, [`PATH=${Layout.DefaultPath}`, ...dockerEnv])
  })

  it("carries the OCI labels: revision, version, licenses, title (and source when the checkout has one)", (ctx) => {
    const { archive, record } = built(ctx)
    const { Labels } = JSON.parse(run("skopeo", ["inspect", `oci-archive:${archive}`])) as { Labels: Record<string, string> }
    const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string; license: string }
    assert.strictEqual(Labels[Layout.LabelKeys.version], pkg.version)
    assert.strictEqual(Labels[Layout.LabelKeys.licenses], pkg.license)
    assert.strictEqual(Labels[Layout.LabelKeys.title], "flyte-pod-webhook")
    assert.strictEqual(Labels[Layout.LabelKeys.revision], record.revision)
    assert.match(record.revision, new RegExp(`^${run("git", ["-C", repoRoot, "rev-parse", "HEAD"]).trim()}(-dirty)?$`))
    let origin = ""
    try {
      origin = run("git", ["-C", repoRoot, "remote", "get-url", "origin"]).trim()
    } catch {
      // no remote: no source label, as build.sh says
    }
    assert.strictEqual(Labels[Layout.LabelKeys.source], process.env["IMAGE_SOURCE"] ?? (origin === "" ? undefined : origin))
  })
})

describe("the image's files, as umoci unpacks them", () => {
  it("/app holds exactly what the Dockerfile copies from this checkout, plus node_modules", (ctx) => {
    built(ctx)
    const copied = dockerfile.filter((i) => i.op === "COPY").flatMap((i) => i.args.split(" ").slice(0, -1))
    assert.deepStrictEqual(fs.readdirSync(inImage("app")).sort(), [...copied.map((p) => p.replace(/\/$/, "")), "node_modules"].sort())
    for (const entry of copied) {
      if (entry.endsWith("/")) {
        assert.deepStrictEqual(walk(inImage(`app/${entry}`)), walk(path.join(repoRoot, entry)), `${entry} file list`)
      } else {
        assert.isTrue(fs.readFileSync(inImage(`app/${entry}`)).equals(fs.readFileSync(path.join(repoRoot, entry))), entry)
      }
    }
    assert.isTrue(fs.statSync(inImage(Layout.NodePath)).mode & 0o111 ? true : false, "node is executable")
  })

  it("has every production package of the lock and none of its dev-only packages", (ctx) => {
    built(ctx)
    const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean; optional?: boolean }>
    }
    const entries = Object.entries(lock.packages).filter(([p]) => p !== "")
    const dev = entries.filter(([, meta]) => meta.dev === true).map(([p]) => p)
    const production = entries.filter(([, meta]) => meta.dev !== true && meta.optional !== true).map(([p]) => p)
    assert.isAbove(dev.length, 10)
    assert.deepStrictEqual(dev.filter((p) => fs.existsSync(inImage(`app/${p}`))), [], "dev-only packages in the image")
    assert.deepStrictEqual(production.filter((p) => !fs.existsSync(inImage(`app/${p}/package.json`))), [], "missing packages")
  })

  it("has no package manager and no package-manager cache, list or log", (ctx) => {
    built(ctx)
    const absent = [
      "usr/bin/apt", "usr/bin/apt-get", "usr/bin/dpkg", "usr/local/bin/npm", "usr/local/bin/npx", "usr/local/bin/corepack",
      "usr/local/lib/node_modules", "var/lib/apt", "var/cache/apt", "var/cache/debconf", "var/log/apt", "var/log/dpkg.log",
      "root/.npm", "app/node_modules/.cache", "etc/apt"
    ]
    assert.deepStrictEqual(absent.filter((p) => fs.existsSync(inImage(p))), [])
    for (const dir of ["tmp", "var/cache", "var/log", "root"]) {
      assert.deepStrictEqual(fs.existsSync(inImage(dir)) ? walk(inImage(dir)) : [], [], `${dir} is empty`)
    }
  })

  it("holds only the Debian runtime packages, with dpkg's record of them, and the image's user", (ctx) => {
    built(ctx)
    const status = fs.readFileSync(inImage("var/lib/dpkg/status"), "utf8")
    const packages = [...status.matchAll(/^Package: (\S+)$/gm)].map((m) => m[1]).sort()
    assert.deepStrictEqual(packages, [...Layout.DebianRuntimePackages].sort())
    assert.include(fs.readFileSync(inImage("etc/passwd"), "utf8").split("\n"), Layout.PasswdLine)
    assert.include(fs.readFileSync(inImage("etc/group"), "utf8").split("\n"), Layout.GroupLine)
    assert.isAbove(fs.statSync(inImage("etc/ssl/certs/ca-certificates.crt")).size, 100_000, "the CA bundle")
    for (const file of ["app/bin/flyte-pod-webhook.js", "app/package.json", "app/node_modules/effect/package.json", Layout.NodePath]) {
      const stat = fs.statSync(inImage(file))
      assert.strictEqual(stat.uid, 0, `${file} owned by root`)
      assert.strictEqual(stat.mode & 0o022, 0, `${file} writable by its owner only`)
    }
  })

  it("gives every file of /app one time (the commit's) and Node's files the binary's, whatever the cache's history", (ctx) => {
    const { record } = built(ctx)
    // npm leaves the install's time on node_modules: a layer that kept it would follow when the cache was made.
    const created = Date.parse(record.created) / 1000
    const times = (dir: string) => {
      const found = new Map<number, number>()
      for (const file of [dir, ...walkAll(dir)]) {
        const seconds = fs.lstatSync(file).mtimeMs / 1000
        found.set(seconds, (found.get(seconds) ?? 0) + 1)
      }
      return [...found.keys()]
    }
    assert.deepStrictEqual(times(inImage("app")), [created])
    assert.deepStrictEqual(times(inImage("usr/local/share/doc/node")), [fs.statSync(inImage(Layout.NodePath)).mtimeMs / 1000])
  })

  it("comes with an SBOM of every installed npm and Debian package", (ctx) => {
    const { outDir } = built(ctx)
    const sbom = JSON.parse(fs.readFileSync(path.join(outDir, "sbom.cdx.json"), "utf8")) as {
      bomFormat: string
      specVersion: string
      metadata: { component: { hashes: Array<{ content: string }> } }
      components: Array<{ name: string; version: string; purl?: string; properties?: Array<{ name: string; value: string }> }>
    }
    assert.strictEqual(sbom.bomFormat, "CycloneDX")
    assert.strictEqual(sbom.specVersion, "1.5")
    const installed = Object.keys((JSON.parse(fs.readFileSync(inImage("app/node_modules/.package-lock.json"), "utf8")) as {
      packages: Record<string, unknown>
    }).packages).filter((p) => p !== "").map((p) => `/app/${p}`).sort()
    const npmPaths = sbom.components.flatMap((c) => c.properties?.filter((p) => p.name === "npm:path").map((p) => p.value) ?? []).sort()
    assert.deepStrictEqual(npmPaths, installed)
    const debs = sbom.components.filter((c) => c.purl?.startsWith("pkg:deb/debian/")).map((c) => c.name).sort()
    assert.deepStrictEqual(debs, [...Layout.DebianRuntimePackages].sort())
    assert.isDefined(sbom.components.find((c) => c.name === "node" && c.purl?.startsWith(`pkg:npm/${Layout.NodePlatformPackage}@`)))
  })

  it("is as large as docs/deploy.md says (within 15 %)", (ctx) => {
    const { record } = built(ctx)
    const docs = fs.readFileSync(path.join(repoRoot, "docs/deploy.md"), "utf8")
    const stated = /The archive is ([\d.]+) MiB/.exec(docs)
    assert.isNotNull(stated, "docs/deploy.md states the archive size as 'The archive is N MiB'")
    const ratio = record.archiveBytes / MiB / Number(stated![1])
    assert.isTrue(ratio > 0.85 && ratio < 1.15, `archive ${(record.archiveBytes / MiB).toFixed(1)} MiB, docs say ${stated![1]} MiB`)
  })
})

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })

const post = (port: number, ca: string, body: string): Promise<{ status: number; text: string }> =>
  new Promise((resolve, reject) => {
    const request = https.request({ host: "127.0.0.1", port, path: "/mutate--v1-pod", method: "POST", ca, headers: { "content-type": "application/json" } }, (response) => {
      let text = ""
      response.on("data", (chunk: Buffer) => void (text += chunk.toString()))
      response.on("end", () => resolve({ status: response.statusCode ?? 0, text }))
    })
    request.once("error", reject)
    request.end(body)
  })

/** statusField: one field of /proc/PID/status, whitespace folded ("Uid" -> "65532 65532 65532 65532"). */
const statusField = (pid: string, field: string): string | undefined =>
  fs.readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((line) => line.startsWith(`${field}:`))
    ?.slice(field.length + 1).trim().replace(/\s+/g, " ")

describe("the image, run as a runtime runs it (deploy/image/run.sh)", () => {
  it("serves the example review over HTTPS as uid 65532 from a read-only root, answers /readyz, exits 0 on SIGTERM", async (ctx) => {
    const { archive } = built(ctx)
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flyte-pod-webhook-image-run-"))
    try {
      const ca = makeCa("image test CA")
      const leaf = issue(ca, { commonName: "flyte-pod-webhook", names: ["127.0.0.1"] })
      fs.mkdirSync(path.join(dir, "certs"))
      fs.writeFileSync(path.join(dir, "certs", "ca.crt"), ca.certPem)
      fs.writeFileSync(path.join(dir, "certs", "tls.crt"), leaf.certPem)
      fs.writeFileSync(path.join(dir, "certs", "tls.key"), leaf.keyPem, { mode: 0o600 })
      for (const file of ["", "ca.crt", "tls.crt", "tls.key"]) fs.chownSync(path.join(dir, "certs", file), 65532, 65532) // fsGroup's job
      const [listenPort, probePort] = [await freePort(), await freePort()]
      const base = YAML.parse(fs.readFileSync(path.join(repoRoot, "deploy/base/config.yaml"), "utf8")) as { webhook: object; secrets: object }
      const config = { ...base, webhook: { ...base.webhook, listenAddress: "127.0.0.1", listenPort, probePort, drainDelay: "1s", disableCreateMutatingWebhookConfig: true } }
      fs.writeFileSync(path.join(dir, "config.yaml"), YAML.stringify(config))
      const pidFile = path.join(dir, "pid")
      const { command, args } = imageCommand({
        archive,
        mounts: { [path.join(dir, "certs")]: "/etc/webhook/certs", [path.join(dir, "config.yaml")]: "/etc/flyte/config/config.yaml" },
        env: ["POD_NAMESPACE", "POD_NAME"],
        pidFile
      }, [])
      const log = fs.openSync(path.join(dir, "log"), "a")
      const child = spawn(command, [...args], { env: { ...process.env, POD_NAMESPACE: "flyte", POD_NAME: "image-test" }, stdio: ["ignore", log, log] })
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
      const output = () => fs.readFileSync(path.join(dir, "log"), "utf8").slice(-3000)
      try {
        let ready = false
        for (let i = 0; i < 240 && !ready && child.exitCode === null; i++) {
          ready = await fetch(`http://127.0.0.1:${probePort}/readyz`).then((r) => r.ok, () => false)
          if (!ready) await new Promise((resolve) => setTimeout(resolve, 250))
        }
        assert.isTrue(ready, `/readyz never answered 200:\n${output()}`)

        const review = fs.readFileSync(path.join(repoRoot, "deploy/image/review.json"), "utf8")
        const answer = await post(listenPort, ca.certPem, review)
        assert.strictEqual(answer.status, 200, answer.text)
        const { response } = JSON.parse(answer.text) as { response: { uid: string; allowed: boolean; patchType: string; patch: string } }
        assert.strictEqual(response.uid, (JSON.parse(review) as { request: { uid: string } }).request.uid)
        assert.isTrue(response.allowed)
        assert.strictEqual(response.patchType, "JSONPatch")
        assert.match(Buffer.from(response.patch, "base64").toString("utf8"), /"secretKeyRef":\{"name":"db-creds","key":"password"/)

        const pid = fs.readFileSync(pidFile, "utf8").trim()
        assert.match(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8"), /^node\0bin\/flyte-pod-webhook\.js\0serve\0--config\0\/etc\/flyte\/config\/config\.yaml\0$/)
        assert.strictEqual(statusField(pid, "Uid"), "65532 65532 65532 65532")
        assert.strictEqual(statusField(pid, "Gid"), "65532 65532 65532 65532")
        assert.strictEqual(statusField(pid, "Groups"), "")
        assert.strictEqual(statusField(pid, "CapEff"), "0000000000000000")
        assert.strictEqual(statusField(pid, "CapPrm"), "0000000000000000")
        assert.strictEqual(statusField(pid, "NoNewPrivs"), "1")
        assert.match(statusField(pid, "NSpid") ?? "", new RegExp(`^${pid} 1$`), "pid 1 in its own pid namespace")
        const rootMount = fs.readFileSync(`/proc/${pid}/mountinfo`, "utf8").split("\n").find((line) => line.split(" ")[4] === "/")
        assert.match(rootMount ?? "", /^\S+ \S+ \S+ \S+ \/ ro[, ]/, `the root is read-only: ${rootMount}`)
        assert.match(fs.readlinkSync(`/proc/${pid}/cwd`), /\/app$/, "in the image's working directory")

        child.kill("SIGTERM")
        assert.strictEqual(await exited, 0, `exit code after SIGTERM:\n${output()}`)
      } finally {
        if (child.exitCode === null) { // a failed assertion: stop it as kubelet would, so run.sh cleans up
          child.kill("SIGTERM")
          await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))])
          if (child.exitCode === null) child.kill("SIGKILL")
        }
        fs.closeSync(log)
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 180_000)
})

describe("reproducibility", () => {
  it("a second build of the same inputs gives the same digest and the same archive bytes", async (ctx) => {
    const first = built(ctx)
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "flyte-pod-webhook-image-again-"))
    try {
      const again = await buildImage(out)
      assert.strictEqual(again._tag, "Built")
      if (again._tag !== "Built") return
      assert.strictEqual(again.record.manifestDigest, first.record.manifestDigest)
      assert.strictEqual(again.record.archiveSha256, first.record.archiveSha256)
      assert.isTrue(fs.readFileSync(path.join(out, "sbom.cdx.json")).equals(fs.readFileSync(path.join(first.outDir, "sbom.cdx.json"))), "same SBOM")
    } finally {
      fs.rmSync(out, { recursive: true, force: true })
    }
  }, 10 * 60_000)
})
