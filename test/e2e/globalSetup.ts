/**
 * Global setup of the end-to-end project (vitest.config.ts): builds the control-plane binaries from their Go
 * modules (test/e2e/tools/build.sh; cached, so only the first run on a machine takes minutes), starts one etcd
 * and one kube-apiserver for the whole run, installs deploy/base's RBAC, and hands the tests the connection
 * (harness/Context.ts). The container image (deploy/image/build.sh) builds at the same time, for the image
 * scenario (image.test.ts) and test/deploy/image-archive.test.ts. Tears everything down afterwards; the run's
 * folder (certificates, kubeconfigs, every process's log, the audit log) is deleted unless a test failed or
 * KEEP_E2E_TMP=1, and its path is printed.
 *
 * SKIP_E2E=1 skips the suite explicitly: a loud line here, and every e2e test reported as skipped.
 * Without Go the build fails and so does the suite, with the message saying what to install.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import type { TestProject } from "vitest/node"
import "./harness/Context.ts"
import { ControlPlane, InstallNamespace } from "./harness/ControlPlane.ts"
import { installRbac } from "./harness/Install.ts"
import { stopAll, tail } from "./harness/Processes.ts"
import { RepoRoot } from "./harness/Tools.ts"
import { prebuildImage } from "../deploy/ImageBuild.ts"

const banner = (lines: ReadonlyArray<string>) => {
  const bar = "=".repeat(100)
  console.warn(["", bar, ...lines.map((line) => `  ${line}`), bar, ""].join("\n"))
}

/** buildBinaries runs build.sh (progress on our stderr) and returns the folder it prints. */
const buildBinaries = (): Promise<string> =>
  new Promise((resolve, reject) => {
    const started = Date.now()
    const child = spawn("bash", [path.join(RepoRoot, "test/e2e/tools/build.sh")], {
      cwd: RepoRoot,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString()
      process.stderr.write(chunk)
    })
    child.once("error", reject)
    child.once("exit", (code) => {
      if (code === 0) {
        const seconds = ((Date.now() - started) / 1000).toFixed(1)
        if (Number(seconds) > 5) console.warn(`e2e: control-plane binaries built in ${seconds} s`)
        return resolve(stdout.trim().split("\n").at(-1) ?? "")
      }
      reject(
        new Error(
          code === 127
            ? `The end-to-end suite needs Go >= 1.26 to build kube-apiserver and etcd:\n${stderr.trim()}\n` +
              "Install Go (https://go.dev/dl), or run the other tests only with SKIP_E2E=1 (the e2e tests are then reported as skipped)."
            : `test/e2e/tools/build.sh failed (exit ${code}):\n${stderr.slice(-4000)}`
        )
      )
    })
  })

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env["SKIP_E2E"] === "1") {
    const reason = "SKIP_E2E=1: the end-to-end suite (real kube-apiserver + etcd) is SKIPPED; its tests are reported as skipped"
    banner([reason, "Unset SKIP_E2E to run it (needs Go >= 1.26; see docs/e2e.md)."])
    project.provide("e2e", { skip: true, reason })
    return async () => {}
  }
  // The image (test/e2e/image.test.ts, test/deploy/image-archive.test.ts) builds beside the control plane.
  const [binDir] = await Promise.all([buildBinaries(), prebuildImage()])
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "flyte-pod-webhook-e2e-"))
  const controlPlane = new ControlPlane(binDir, dir)
  const teardown = async () => {
    await controlPlane.stop()
    await stopAll()
    const failed = fs.existsSync(path.join(dir, "FAILED"))
    if (failed || process.env["KEEP_E2E_TMP"] === "1") {
      console.warn(`e2e: kept the run's folder (logs, audit log, kubeconfigs): ${dir}`)
    } else {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  try {
    const started = Date.now()
    const info = await controlPlane.start()
    await installRbac(info, InstallNamespace, { clusterScoped: true })
    console.warn(`e2e: control plane up at ${info.server} in ${((Date.now() - started) / 1000).toFixed(1)} s (run folder ${dir})`)
    project.provide("e2e", { skip: false, ...info })
  } catch (error) {
    fs.writeFileSync(path.join(dir, "FAILED"), String(error))
    for (const log of ["etcd.log", "kube-apiserver.log"]) {
      console.error(`--- last lines of ${log}\n${tail(path.join(dir, log), 30)}`)
    }
    await teardown()
    throw error
  }
  return teardown
}
