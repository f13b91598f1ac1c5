/**
 * The image scenario: the real API server calls the container image's contents. One replica runs from the
 * archive deploy/image/build.sh makes (built, or found cached, by the global setup), started by
 * deploy/image/run.sh as a container runtime would start it: the image's entrypoint, env and working directory,
 * uid 65532, pid 1 of its own pid namespace, a read-only root, and only this file's folder of the run mounted
 * (read-only) at the same path, so the config, the serving certificate and the kubeconfig the suite wrote are
 * where the config says. The kubeconfig and the certificate are handed to uid 65532 as a Pod's volumes would be
 * (fsGroup). A Pod asking for a Kubernetes secret is stored with the mutation the image's webhook made, and
 * SIGTERM drains the container and exits 0.
 *
 * Skipped, with build.sh's reason printed, only where the image cannot be built (not root, or the Debian tools
 * cannot be installed).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, assert, it, type TestContext } from "vitest"
import { buildImage, type ImageBuild, imageCommand } from "../deploy/ImageBuild.ts"
import type { Api, ApiJson } from "./harness/Api.ts"
import { hasEnv, inputPod } from "./harness/ExpectedPods.ts"
import { adminApi, beforeAllE2e, control, describeE2e, fileDir, showLogsOnFailure } from "./harness/Suite.ts"
import { Deployment } from "./harness/Webhook.ts"
import { prepareCerts } from "./harness/WebhookCli.ts"

const ContainerUid = 65532

/** giveTo: a copy of `file` (or the files of a folder) owned by the container's user, as kubelet's fsGroup does. */
const giveTo = (target: string) => {
  for (const entry of [target, ...fs.readdirSync(target).map((name) => path.join(target, name))]) {
    fs.chownSync(entry, ContainerUid, ContainerUid)
  }
}

describeE2e("the image: the API server calls the container image's contents", () => {
  let api: Api | undefined
  let image: ImageBuild | undefined
  let deployment: Deployment | undefined
  let pidFile = ""
  const logs = () => deployment?.logs ?? []
  showLogsOnFailure(logs)

  const built = (ctx: TestContext) => {
    if (image?._tag !== "Built") {
      ctx.skip(image?.reason ?? "the image was not built")
      throw new Error("unreachable")
    }
    return image
  }

  beforeAllE2e(async () => {
    image = await buildImage()
    if (image._tag !== "Built") return console.warn(`SKIPPED (image scenario): ${image.reason}`)
    const { archive } = image
    api = adminApi()
    const dir = fileDir("image")
    const certDir = path.join(dir, "certs")
    await prepareCerts(control(), dir, certDir)
    giveTo(certDir)
    const kubeDir = path.join(dir, "kube")
    fs.mkdirSync(kubeDir)
    const admin = control().admin
    fs.copyFileSync(admin.kubeconfig, path.join(kubeDir, "kubeconfig"))
    giveTo(kubeDir)
    pidFile = path.join(dir, "container.pid")
    deployment = await Deployment.start({
      name: "image",
      ctx: control(),
      dir,
      certDir,
      identity: { ...admin, kubeconfig: path.join(kubeDir, "kubeconfig") },
      webhook: { serviceName: "e2e-image", secretName: "e2e-image-certs", caKeySize: 2048 },
      launch: (args, env) =>
        imageCommand({
          archive,
          volumes: [dir],
          env: Object.keys(env).filter((name) => name !== "PATH" && name !== "HOME"),
          pidFile
        }, args)
    })
  }, logs)

  afterAll(async () => {
    await deployment?.stopAndUnregister()
    api?.close()
  })

  const mutated = (pod: ApiJson) => hasEnv(pod, "_FSEC_DB-CREDS_PASSWORD")

  it("runs the image's entrypoint as uid 65532, pid 1 of its own namespace, on a read-only root", (ctx) => {
    built(ctx)
    const pid = fs.readFileSync(pidFile, "utf8").trim()
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8")
    assert.match(status, /^Uid:\s+65532\s+65532\s+65532\s+65532$/m)
    assert.match(status, new RegExp(`^NSpid:\\s+${pid}\\s+1$`, "m"))
    assert.match(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8"), /^node\0bin\/flyte-pod-webhook\.js\0serve\0--config\0/)
    const root = fs.readFileSync(`/proc/${pid}/mountinfo`, "utf8").split("\n").find((line) => line.split(" ")[4] === "/")
    assert.match(root ?? "", /^\S+ \S+ \S+ \S+ \/ ro[, ]/)
  })

  it("a Pod asking for a Kubernetes secret is stored with the mutation the image's webhook made", async (ctx) => {
    built(ctx)
    const namespace = await deployment!.namespace(api!, "image")
    const created = await api!.createPod(namespace, inputPod("from-image", [{ group: "db-creds", key: "password", mountRequirement: "ENV_VAR" }]))
    assert.strictEqual(created.status, 201, JSON.stringify(created.body?.message))
    assert.isTrue(mutated(created.body), "stored with the secret reference")
    const stored = await api!.get(`/api/v1/namespaces/${namespace}/pods/from-image`)
    assert.isTrue(mutated(stored))
  })

  it("SIGTERM drains the container's webhook and it exits 0", async (ctx) => {
    built(ctx)
    const exit = await deployment!.terminate(0)
    assert.deepStrictEqual(exit, { code: 0, signal: null })
  })
})
