/**
 * Manifests: reads the deployment files in deploy/ as plain objects, and renders them with kubectl kustomize
 * and helm when those binaries exist (the end-to-end suite builds them into its cache, see test/e2e/tools/build.sh;
 * KUBECTL and HELM override). The static tests run on the raw files always and on the rendered output when it can be made.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as YAML from "yaml"
import { parseSettings, type WebhookConfigShape } from "../../src/WebhookConfig.ts"

export const repoRoot = path.resolve(import.meta.dirname, "../..")
export const deployDir = path.join(repoRoot, "deploy")
export const chartDir = path.join(deployDir, "helm/flyte-pod-webhook")

/** The fields the tests read; everything else stays unknown. */
export interface K8sObject {
  readonly apiVersion: string
  readonly kind: string
  readonly metadata: {
    readonly name: string
    readonly namespace?: string
    readonly labels?: Readonly<Record<string, string>>
    readonly annotations?: Readonly<Record<string, string>>
  }
  readonly [field: string]: unknown
}

/** readYamlDocs: every document of one YAML file (empty documents dropped). */
export const readYamlDocs = (file: string): ReadonlyArray<unknown> =>
  YAML.parseAllDocuments(fs.readFileSync(file, "utf8"))
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join("; ")}`)
      return doc.toJS() as unknown
    })
    .filter((doc) => doc !== null && doc !== undefined)

export const parseYamlStream = (text: string): ReadonlyArray<K8sObject> =>
  YAML.parseAllDocuments(text)
    .map((doc) => doc.toJS() as unknown)
    .filter((doc): doc is K8sObject => typeof doc === "object" && doc !== null && "kind" in doc)

/** yamlFilesUnder: every .yaml/.yml file below a folder (Helm templates and the others' examples excluded). */
export const yamlFilesUnder = (dir: string): ReadonlyArray<string> =>
  fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => !file.includes(`${path.sep}templates${path.sep}`))
    .filter((file) => !file.startsWith(path.join(deployDir, "examples")))
    .sort()

export interface Kustomization {
  readonly kind?: string
  readonly namespace?: string
  readonly resources?: ReadonlyArray<string>
  readonly components?: ReadonlyArray<string>
  readonly patches?: ReadonlyArray<{ readonly path?: string; readonly patch?: string }>
  readonly configMapGenerator?: ReadonlyArray<{ readonly name: string; readonly behavior?: string; readonly files?: ReadonlyArray<string> }>
}

export const readKustomization = (dir: string): Kustomization =>
  readYamlDocs(path.join(dir, "kustomization.yaml"))[0] as Kustomization

/** localObjects: the objects of a kustomization's own resource files (not its bases), as written. */
export const localObjects = (dir: string): ReadonlyArray<K8sObject> =>
  (readKustomization(dir).resources ?? [])
    .filter((entry) => entry.endsWith(".yaml"))
    .flatMap((file) => readYamlDocs(path.join(dir, file)) as ReadonlyArray<K8sObject>)

/** configOf: a config file's text parsed by the webhook's own config reader (fails on any bad key). */
export const configOf = (text: string, env: Record<string, string> = { POD_NAMESPACE: "flyte" }): WebhookConfigShape =>
  parseSettings(YAML.parse(text), env, "<test>")

// ---- Rendering with the real tools, when present ----------------------------------------------------------

/** The end-to-end build cache (test/e2e/tools/build.sh): E2E_BIN_CACHE, else the user cache, else the work tree. */
const cacheRoots = (): ReadonlyArray<string> => [
  process.env["E2E_BIN_CACHE"],
  path.join(process.env["XDG_CACHE_HOME"] || path.join(os.homedir(), ".cache"), "flyte-pod-webhook/e2e-bin"),
  path.join(repoRoot, ".cache/e2e-bin")
].filter((root): root is string => root !== undefined && root !== "")

const builtTool = (name: string): string | undefined => {
  for (const cache of cacheRoots()) {
    if (!fs.existsSync(cache)) continue
    for (const key of fs.readdirSync(cache)) {
      const binary = path.join(cache, key, name)
      if (fs.existsSync(path.join(cache, key, "stamp")) && fs.existsSync(binary)) return binary
    }
  }
  return undefined
}

/** The kubectl and helm binaries, if any: env KUBECTL / HELM first, else the end-to-end build cache. */
export const kubectl: string | undefined = process.env["KUBECTL"] || builtTool("kubectl")
export const helm: string | undefined = process.env["HELM"] || builtTool("helm")

const run = (binary: string, args: ReadonlyArray<string>): string =>
  execFileSync(binary, args, { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })

export const kustomize = (dir: string): ReadonlyArray<K8sObject> =>
  parseYamlStream(run(kubectl as string, ["kustomize", path.join(deployDir, dir)]))

export const helmTemplate = (args: ReadonlyArray<string> = []): ReadonlyArray<K8sObject> =>
  parseYamlStream(run(helm as string, ["template", "fpw", chartDir, "--namespace", "flyte", ...args]))

/** helmTemplateError: the message of a render that must fail. */
export const helmTemplateError = (args: ReadonlyArray<string>): string => {
  try {
    run(helm as string, ["template", "fpw", chartDir, "--namespace", "flyte", ...args])
  } catch (cause) {
    return String((cause as { stderr?: string }).stderr ?? cause)
  }
  throw new Error(`helm template ${args.join(" ")} succeeded; expected a failure`)
}
