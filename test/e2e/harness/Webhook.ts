/**
 * Webhook: the webhook under test, run as the real CLI (`node bin/flyte-pod-webhook.js serve --config FILE`),
 * one process per replica, registered in URL mode (`webhook.webhookUrl`) at a RoundRobinProxy that stands in
 * for the Service. Each deployment has its own `namespaceSelector` (label `e2e.flyte.org/webhook: <name>`),
 * so several deployments with different managers can be registered at once without seeing each other's Pods;
 * tests create Pods in namespaces carrying that label.
 *
 * `start` returns once every replica serves, is ready (/readyz, which includes the Registrar's gate) and the API
 * server has actually called the deployment: marker Pods (dry run, so nothing is stored) are created until
 * one comes back mutated. Reading the configuration back is not enough: the API server picks it up
 * asynchronously.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as YAML from "yaml"
import { Api, type Identity } from "./Api.ts"
import { type ControlPlaneInfo, InstallNamespace } from "./ControlPlane.ts"
import { generatedPod } from "./ExpectedPods.ts"
import { ManagedProcess } from "./Processes.ts"
import { RoundRobinProxy } from "./Proxy.ts"
import { baseEnv, CliEntry, RepoRoot } from "./Tools.ts"
import { unregister } from "./WebhookCli.ts"
import { until } from "./Wait.ts"
import type { ApiJson } from "./Api.ts"

export const SelectorLabel = "e2e.flyte.org/webhook"
export const MutatePath = "/mutate--v1-pod"
/** A Global secret every deployment holds (env FLYTE_SECRET_E2E_MARKER), requested by the marker Pods. */
export const MarkerEnv = { FLYTE_SECRET_E2E_MARKER: "marker-value" }

export type Settings = Readonly<Record<string, unknown>>

export interface DeploymentOptions {
  /** Deployment id: the selector label's value, and the prefix of its files. */
  readonly name: string
  readonly ctx: ControlPlaneInfo
  /** Folder for this deployment's config files and logs. */
  readonly dir: string
  /** Kubernetes identity the replicas run with. */
  readonly identity: Identity
  /** Folder with tls.crt / tls.key / ca.crt (from init-certs with webhook.localCert). */
  readonly certDir: string
  readonly replicas?: number
  /** Extra `webhook:` keys (secretManagerType, failurePolicy, ...). serviceName defaults to flyte-pod-webhook. */
  readonly webhook?: Settings
  readonly secrets?: Settings
  /** Extra environment (Global secrets as FLYTE_SECRET_*). */
  readonly env?: Readonly<Record<string, string>>
  /** Skip waiting for the API server to call us (tests that stop the deployment before it registers). */
  readonly waitCalled?: boolean
  /** The port the registered URL (the proxy) listens on. Default: any free one. */
  readonly proxyPort?: number
  /**
   * How a replica starts, given the CLI's arguments and its environment. Default: `node bin/flyte-pod-webhook.js
   * <args>` on this Node 24. The image scenario runs the built image's entrypoint instead (deploy/image/run.sh).
   */
  readonly launch?: Launcher
}

export type Launcher = (
  args: ReadonlyArray<string>,
  env: Readonly<Record<string, string>>
) => { readonly command: string; readonly args: ReadonlyArray<string> }

export interface Replica {
  readonly index: number
  readonly process: ManagedProcess
  readonly port: number
  readonly probePort: number
}

interface ServingLine {
  readonly port: number
  readonly probePort: number
}

/** logLines: the JSON log lines of a replica (other lines skipped). */
export const logLines = (text: string): ReadonlyArray<{ message?: string; level?: string; annotations?: Record<string, unknown> }> =>
  text.split("\n").flatMap((line) => {
    if (!line.startsWith("{")) return []
    try {
      return [JSON.parse(line)]
    } catch {
      return []
    }
  })

const servingLine = (text: string): ServingLine | undefined => {
  const line = logLines(text).find((entry) => entry.message === "flyte-pod-webhook serving")
  const port = line?.annotations?.["port"]
  const probePort = line?.annotations?.["probePort"]
  return typeof port === "number" && typeof probePort === "number" ? { port, probePort } : undefined
}

/** markerPod: a labelled Pod asking for the Global marker secret as an env var. */
export const markerPod = () => generatedPod("marker-", { group: "e2e", key: "marker", mountRequirement: "ENV_VAR" })

const isMarked = (pod: ApiJson): boolean =>
  (pod?.spec?.containers?.[0]?.env ?? []).some((env: { name?: string }) => env.name === "_FSEC_E2E_MARKER")

let namespaces = 0

/** uniqueName: a DNS-1123 name unique within this run. */
export const uniqueName = (prefix: string): string =>
  `${prefix}-${process.pid.toString(36)}-${(namespaces++).toString(36)}-${Math.random().toString(36).slice(2, 6)}`

export class Deployment {
  readonly proxy = new RoundRobinProxy()
  readonly replicas: Array<Replica> = []
  private readonly options: DeploymentOptions

  private constructor(options: DeploymentOptions) {
    this.options = options
  }

  get name(): string {
    return this.options.name
  }

  get url(): string {
    return `https://127.0.0.1:${this.proxy.port}${MutatePath}`
  }

  get serviceName(): string {
    return String(this.options.webhook?.["serviceName"] ?? "flyte-pod-webhook")
  }

  /** configFor: the config file of replica `index` (ports chosen by the kernel; everything else shared). */
  configFor(index: number): string {
    const { name, certDir } = this.options
    const document = {
      webhook: {
        certDir,
        listenAddress: "127.0.0.1",
        listenPort: 0,
        probePort: 0,
        webhookUrl: this.url,
        namespaceSelector: { matchLabels: { [SelectorLabel]: name } },
        extraSANs: ["127.0.0.1"],
        registrationCheckInterval: "2s",
        timeoutSeconds: 10,
        drainDelay: "1s",
        shutdownTimeout: "10s",
        logLevel: "Info",
        ...this.options.webhook
      },
      secrets: {
        "secrets-prefix": path.join(this.options.dir, `${name}-global-secrets`),
        ...this.options.secrets
      }
    }
    const file = path.join(this.options.dir, `${name}-${index}.yaml`)
    fs.writeFileSync(file, YAML.stringify(document))
    return file
  }

  /** spawn starts replica `index` and resolves when it serves (its ports read from its log). */
  async spawn(index: number): Promise<Replica> {
    const { identity, name } = this.options
    const env = baseEnv({
      KUBECONFIG: identity.kubeconfig,
      POD_NAMESPACE: InstallNamespace,
      POD_NAME: `${name}-${index}`,
      ...MarkerEnv,
      ...this.options.env
    })
    const args = ["serve", "--config", this.configFor(index)]
    const launch = this.options.launch?.(args, env) ?? { command: process.execPath, args: [CliEntry, ...args] }
    const child = new ManagedProcess({
      name: `${name}-${index}`,
      command: launch.command,
      args: launch.args,
      cwd: RepoRoot,
      logFile: path.join(this.options.dir, `${name}-${index}.log`),
      env
    })
    const serving = await until(`${child.name} to serve`, () => servingLine(child.log()), {
      timeoutMs: 60_000,
      intervalMs: 100,
      abort: () => (child.alive ? undefined : `${child.name} exited:\n${child.log().slice(-3000)}`)
    })
    const replica = { index, process: child, ...serving }
    this.replicas[index] = replica
    this.proxy.add(serving.port)
    return replica
  }

  /** readyz: the replica's readiness answer (status and body). */
  static async readyz(replica: Replica): Promise<{ readonly status: number; readonly body: string }> {
    const answer = await fetch(`http://127.0.0.1:${replica.probePort}/readyz`, { signal: AbortSignal.timeout(2_000) })
    return { status: answer.status, body: await answer.text() }
  }

  /** waitReady: every running replica answers /readyz 200. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    for (const replica of this.replicas.filter((r) => r.process.alive)) {
      await until(`${replica.process.name} /readyz`, async () => ((await Deployment.readyz(replica)).status === 200 ? true : undefined), {
        timeoutMs,
        abort: () => (replica.process.alive ? undefined : `${replica.process.name} exited`)
      })
    }
  }

  /** namespace: a fresh namespace this deployment is registered for. */
  async namespace(api: Api, prefix: string): Promise<string> {
    const name = uniqueName(prefix)
    await api.createNamespace(name, { [SelectorLabel]: this.name })
    return name
  }

  /** waitCalled: marker Pods (dry run) until the API server calls this deployment and stores its patch. */
  async waitCalled(api: Api, timeoutMs = 60_000): Promise<void> {
    const namespace = await this.namespace(api, `marker-${this.name}`)
    await until(`the API server to call webhook ${this.name}`, async () => {
      const answer = await api.createPod(namespace, markerPod(), { dryRun: true })
      if (answer.status !== 201) throw new Error(`marker Pod: ${answer.status} ${answer.body?.message ?? ""}`)
      return isMarked(answer.body) ? true : undefined
    }, { timeoutMs, intervalMs: 250 })
  }

  /**
   * startBeside: a deployment run as admin under its own Service and Secret names (`e2e-<name>`), beside the
   * main one, for scenarios about a manager, a policy or rotation rather than RBAC.
   */
  static startBeside(options: Omit<DeploymentOptions, "identity">): Promise<Deployment> {
    const own = { serviceName: `e2e-${options.name}`, secretName: `e2e-${options.name}-certs`, caKeySize: 2048 }
    return Deployment.start({ ...options, identity: options.ctx.admin, webhook: { ...own, ...options.webhook } })
  }

  static async start(options: DeploymentOptions): Promise<Deployment> {
    const deployment = new Deployment(options)
    fs.mkdirSync(path.join(options.dir, `${options.name}-global-secrets`), { recursive: true })
    await deployment.proxy.listen(options.proxyPort)
    try {
      await Promise.all(Array.from({ length: options.replicas ?? 1 }, (_, index) => deployment.spawn(index)))
      await deployment.waitReady()
      if (options.waitCalled !== false) {
        const api = new Api(options.ctx.server, options.ctx.caFile, options.ctx.admin)
        try {
          await deployment.waitCalled(api)
        } finally {
          api.close()
        }
      }
      return deployment
    } catch (error) {
      await deployment.stop()
      throw error
    }
  }

  /** terminate sends SIGTERM to one replica and waits for its exit (the drain included). */
  async terminate(index: number): Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }> {
    const replica = this.replicas[index]
    if (replica === undefined) throw new Error(`no replica ${index}`)
    replica.process.signal("SIGTERM")
    return replica.process.exited
  }

  /** logs: every replica's log file. */
  get logs(): ReadonlyArray<string> {
    return this.replicas.filter((r) => r !== undefined).map((r) => r.process.logFile)
  }

  /** stop: every replica (SIGTERM, drain, exit), then the proxy. */
  async stop(): Promise<void> {
    await Promise.all(this.replicas.filter((r) => r !== undefined).map((r) => r.process.stop(20_000)))
    await this.proxy.close()
  }

  /**
   * stopAndUnregister: stop, then remove the registration with `flyte-pod-webhook unregister` (as an admin: the
   * webhook's own grant has no delete), so no configuration outlives its test file.
   */
  async stopAndUnregister(): Promise<void> {
    await this.stop()
    await unregister(this.options.ctx, this.options.dir, this.serviceName)
  }
}
