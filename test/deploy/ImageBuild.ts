/**
 * ImageBuild: the tests' way to the production image. `buildImage` runs deploy/image/build.sh (cached: a second
 * call with unchanged inputs only re-packs the app layer, and concurrent calls wait on the cache's lock) and
 * returns the archive with its build record, or the reason it cannot be built here (build.sh exit 3: not
 * root, or the Debian tools cannot be installed); `imageCommand` is the command line that runs the image with
 * deploy/image/run.sh. The end-to-end global setup starts the build beside the control plane's (prebuildImage),
 * so the tests that need the image find it warm.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { repoRoot } from "./Manifests.ts"

export const buildScript = path.join(repoRoot, "deploy/image/build.sh")
export const runScript = path.join(repoRoot, "deploy/image/run.sh")
export const unpackScript = path.join(repoRoot, "deploy/image/unpack.sh")

/** The record build.sh writes next to the archive (OUT/build.json). */
export interface BuildRecord {
  readonly manifestDigest: string
  readonly configDigest: string
  readonly ref: string
  /** The image's creation time (SOURCE_DATE_EPOCH), ISO 8601. */
  readonly created: string
  readonly archive: string
  readonly archiveSha256: string
  readonly archiveBytes: number
  readonly compressedBytes: number
  readonly uncompressedBytes: number
  readonly revision: string
  readonly timingsSeconds: string
  readonly layers: ReadonlyArray<{ readonly name: string; readonly digest: string; readonly diffId: string; readonly bytes: number }>
}

export type ImageBuild =
  | { readonly _tag: "Built"; readonly archive: string; readonly outDir: string; readonly record: BuildRecord; readonly seconds: number }
  | { readonly _tag: "CannotBuild"; readonly reason: string }

/** buildImage runs build.sh into `outDir` (default .local/image); rejects when the build fails. */
export const buildImage = (outDir = path.join(repoRoot, ".local/image"), extraArgs: ReadonlyArray<string> = []): Promise<ImageBuild> =>
  new Promise((resolve, reject) => {
    const started = Date.now()
    const child = spawn("bash", [buildScript, "--out", outDir, ...extraArgs], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => void (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString()))
    child.once("error", reject)
    child.once("exit", (code) => {
      const seconds = (Date.now() - started) / 1000
      if (code === 3) {
        const reason = stderr.trim().split("\n").filter((line) => line.startsWith("build.sh:")).at(-1) ?? stderr.trim()
        return resolve({ _tag: "CannotBuild", reason: `the image cannot be built here: ${reason}` })
      }
      if (code !== 0) return reject(new Error(`deploy/image/build.sh exited ${code}:\n${stderr.slice(-6000)}`))
      const archive = stdout.trim().split("\n").at(-1) ?? ""
      const record = JSON.parse(fs.readFileSync(path.join(outDir, "build.json"), "utf8")) as BuildRecord
      resolve({ _tag: "Built", archive, outDir, record, seconds })
    })
  })

/** prebuildImage: buildImage that never rejects, for the e2e global setup (the tests report a failure themselves). */
export const prebuildImage = async (): Promise<void> => {
  try {
    const built = await buildImage()
    console.warn(built._tag === "Built"
      ? `e2e: image ${built.record.manifestDigest} ready in ${built.seconds.toFixed(1)} s (${built.record.timingsSeconds})`
      : `e2e: ${built.reason}`)
  } catch (error) {
    console.warn(`e2e: the image build failed (the image tests will say why): ${String(error).slice(0, 300)}`)
  }
}

export interface RunOptions {
  readonly archive: string
  /** Host paths mounted read-only at the same path inside. */
  readonly volumes?: ReadonlyArray<string>
  /** Host path -> path inside (read-only). */
  readonly mounts?: Readonly<Record<string, string>>
  /** Names of variables copied from the environment run.sh is started with. */
  readonly env?: ReadonlyArray<string>
  readonly pidFile?: string
  readonly entrypoint?: string
}

/** imageCommand: `bash deploy/image/run.sh ... -- args` (the image's entrypoint with `args` as its command). */
export const imageCommand = (options: RunOptions, args: ReadonlyArray<string>): { readonly command: string; readonly args: ReadonlyArray<string> } => ({
  command: "bash",
  args: [
    runScript,
    "--archive", options.archive,
    ...(options.volumes ?? []).flatMap((dir) => ["-v", `${dir}:${dir}:ro`]),
    ...Object.entries(options.mounts ?? {}).flatMap(([host, inside]) => ["-v", `${host}:${inside}:ro`]),
    ...(options.env ?? []).flatMap((name) => ["-e", name]),
    ...(options.pidFile === undefined ? [] : ["--pid-file", options.pidFile]),
    ...(options.entrypoint === undefined ? [] : ["--entrypoint", options.entrypoint]),
    "--",
    ...args
  ]
})
