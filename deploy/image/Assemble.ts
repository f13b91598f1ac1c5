/**
 * Assemble: the OCI side of deploy/image/build.sh, run on the image's own Node 24 binary.
 *
 *   node Assemble.ts layout NAME     prints one value of Layout.ts for the shell (arrays one per line)
 *   node Assemble.ts image --out DIR --layer NAME:GZ:DIFFID:BYTES... --created EPOCH --version V --revision R
 *                          --licenses L --source URL --node-version V
 *       writes an OCI image layout (image-spec v1.1: oci-layout, index.json, blobs/sha256/*) in DIR from the
 *       compressed layers build.sh made, and prints a JSON record (digests, sizes) on stdout.
 *
 * Every JSON document is written by JSON.stringify from objects whose keys are in a fixed order, and every
 * time in them is SOURCE_DATE_EPOCH, so the same inputs give the same bytes and therefore the same digests.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { parseArgs } from "node:util"
import * as Layout from "./Layout.ts"

const MediaTypes = {
  index: "application/vnd.oci.image.index.v1+json",
  manifest: "application/vnd.oci.image.manifest.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar+gzip"
} as const

/** What each layer is, for the config's history (what `docker history` shows). */
const LayerHistory: Readonly<Record<string, string>> = {
  debian: `deploy/image/build.sh: Debian bookworm, packages ${Layout.DebianRuntimePackages.join(" ")} (mmdebstrap), user ${Layout.User}`,
  node: `deploy/image/build.sh: ${Layout.NodePath} from the npm package ${Layout.NodePlatformPackage}`,
  app: `deploy/image/build.sh: ${Layout.WorkingDir}: ${Layout.AppPaths.join(" ")} and npm ci --omit=dev --ignore-scripts`
}

interface LayerInput {
  readonly name: string
  readonly file: string
  readonly diffId: string
  readonly uncompressedBytes: number
}

const sha256File = (file: string): string => {
  const hash = createHash("sha256")
  const fd = fs.openSync(file, "r")
  const buffer = Buffer.allocUnsafe(1 << 20)
  try {
    for (let n = fs.readSync(fd, buffer); n > 0; n = fs.readSync(fd, buffer)) hash.update(buffer.subarray(0, n))
  } finally {
    fs.closeSync(fd)
  }
  return `sha256:${hash.digest("hex")}`
}

/** writeBlob: a JSON document into blobs/sha256, returned as a descriptor. */
const writeBlob = (dir: string, mediaType: string, document: unknown) => {
  const bytes = Buffer.from(JSON.stringify(document))
  const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`
  fs.writeFileSync(path.join(dir, "blobs", "sha256", digest.slice("sha256:".length)), bytes)
  return { mediaType, digest, size: bytes.length }
}

const parseLayer = (spec: string): LayerInput => {
  const match = /^([a-z]+):(.+):(sha256:[0-9a-f]{64}):(\d+)$/.exec(spec)
  if (match === null) throw new Error(`--layer ${spec}: expected NAME:GZ_FILE:sha256:DIFFID:BYTES`)
  return { name: match[1]!, file: match[2]!, diffId: match[3]!, uncompressedBytes: Number(match[4]) }
}

const layoutValue = (name: string): string => {
  const value = (Layout as Readonly<Record<string, unknown>>)[name]
  if (value === undefined) throw new Error(`Layout.ts has no export ${name}`)
  return Array.isArray(value) ? value.join("\n") : String(value)
}

const image = (argv: ReadonlyArray<string>): void => {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      out: { type: "string" },
      layer: { type: "string", multiple: true },
      created: { type: "string" },
      version: { type: "string" },
      revision: { type: "string" },
      licenses: { type: "string" },
      source: { type: "string", default: "" },
      "node-version": { type: "string" }
    }
  })
  const required = (name: keyof typeof values): string => {
    const value = values[name]
    if (typeof value !== "string" || value === "") throw new Error(`--${name} is required`)
    return value
  }
  const out = required("out")
  const created = new Date(Number(required("created")) * 1000).toISOString().replace(".000Z", "Z")
  const layers = (values.layer ?? []).map(parseLayer)
  if (layers.length === 0) throw new Error("no --layer given")
  fs.mkdirSync(path.join(out, "blobs", "sha256"), { recursive: true })

  const layerDescriptors = layers.map((layer) => {
    const digest = sha256File(layer.file)
    fs.copyFileSync(layer.file, path.join(out, "blobs", "sha256", digest.slice("sha256:".length)))
    return { mediaType: MediaTypes.layer, digest, size: fs.statSync(layer.file).size }
  })
  const labels: Record<string, string> = {
    [Layout.LabelKeys.created]: created,
    [Layout.LabelKeys.licenses]: required("licenses"),
    [Layout.LabelKeys.revision]: required("revision"),
    ...(values.source === "" || values.source === undefined ? {} : { [Layout.LabelKeys.source]: values.source }),
    [Layout.LabelKeys.title]: "flyte-pod-webhook",
    [Layout.LabelKeys.version]: required("version"),
    "org.nodejs.version": required("node-version")
  }
  const config = {
    created,
    architecture: "amd64",
    os: "linux",
    config: {
      User: Layout.User,
      ExposedPorts: Object.fromEntries(Layout.ExposedPorts.map((port) => [port, {}])),
      Env: [`PATH=${Layout.DefaultPath}`, ...Object.entries(Layout.Env).map(([key, value]) => `${key}=${value}`)],
      Entrypoint: [...Layout.Entrypoint],
      Cmd: [...Layout.Cmd],
      WorkingDir: Layout.WorkingDir,
      Labels: labels
    },
    rootfs: { type: "layers", diff_ids: layers.map((layer) => layer.diffId) },
    history: layers.map((layer) => ({ created, created_by: LayerHistory[layer.name] ?? layer.name }))
  }
  const configDescriptor = writeBlob(out, MediaTypes.config, config)
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.manifest,
    config: configDescriptor,
    layers: layerDescriptors,
    annotations: { [Layout.LabelKeys.created]: created, [Layout.LabelKeys.revision]: required("revision") }
  }
  const manifestDescriptor = writeBlob(out, MediaTypes.manifest, manifest)
  const index = {
    schemaVersion: 2,
    mediaType: MediaTypes.index,
    manifests: [{
      ...manifestDescriptor,
      platform: { architecture: "amd64", os: "linux" },
      annotations: { "org.opencontainers.image.ref.name": required("version") }
    }]
  }
  fs.writeFileSync(path.join(out, "index.json"), JSON.stringify(index))
  fs.writeFileSync(path.join(out, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }))

  const record = {
    manifestDigest: manifestDescriptor.digest,
    configDigest: configDescriptor.digest,
    ref: required("version"),
    created,
    layers: layers.map((layer, i) => ({
      name: layer.name,
      digest: layerDescriptors[i]!.digest,
      bytes: layerDescriptors[i]!.size,
      diffId: layer.diffId,
      uncompressedBytes: layer.uncompressedBytes
    })),
    compressedBytes: layerDescriptors.reduce((sum, layer) => sum + layer.size, 0),
    uncompressedBytes: layers.reduce((sum, layer) => sum + layer.uncompressedBytes, 0),
    config: config.config
  }
  process.stdout.write(`${JSON.stringify(record, null, 2)}\n`)
}

const [command, ...rest] = process.argv.slice(2)
if (command === "layout" && rest.length === 1) {
  process.stdout.write(`${layoutValue(rest[0]!)}\n`)
} else if (command === "image") {
  image(rest)
} else {
  process.stderr.write("usage: Assemble.ts layout NAME | Assemble.ts image --out DIR --layer ... (see the header)\n")
  process.exit(2)
}
