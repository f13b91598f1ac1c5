/**
 * The cluster `npm run bench:cluster` measures, built from the end-to-end harness (test/e2e/harness): etcd and
 * kube-apiserver from the e2e build cache (test/e2e/tools/build.sh), and the webhook run as its CLI
 * (`node bin/flyte-pod-webhook.js serve`, the image's NODE_OPTIONS) behind the harness's Service stand-in
 * (RoundRobinProxy), registered in URL mode. Three setups, each with a namespace of its own, all live at once
 * so rounds can alternate between them without restarts:
 * - `none`: a namespace no registration selects: no webhook is called (the two registrations below exist, and
 *   the API server checks their namespaceSelector against this namespace's labels, from its informer cache);
 * - `one`: a deployment of one replica; `two`: a deployment of two replicas behind one proxy.
 *
 * Pinning (with 2+ cores and taskset; BENCH_PIN=0 turns it off): core 0 runs the control plane (etcd and
 * kube-apiserver), as its own nodes would in a cluster; core 1 runs the webhook replicas, the proxy (this
 * process) and the load generator. So the webhook's cost shows twice: as its own CPU on core 1, and as the API
 * server's extra work per call (TLS, encoding the AdmissionReview, applying the patch) on core 0.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Api, type Identity } from "../test/e2e/harness/Api.ts"
import { ControlPlane, type ControlPlaneInfo, InstallNamespace } from "../test/e2e/harness/ControlPlane.ts"
import { serviceAccountIdentity } from "../test/e2e/harness/Identities.ts"
import { installRbac } from "../test/e2e/harness/Install.ts"
import { stopAll } from "../test/e2e/harness/Processes.ts"
import type { RoundRobinProxy } from "../test/e2e/harness/Proxy.ts"
import { RepoRoot } from "../test/e2e/harness/Tools.ts"
import { Deployment, type Replica, uniqueName } from "../test/e2e/harness/Webhook.ts"
import { prepareCerts } from "../test/e2e/harness/WebhookCli.ts"
import { childPid, pin, pinning } from "./clusterMeasure.ts"
import { imageEnv } from "./Servers.ts"

export type SetupName = "none" | "one" | "two"
export const SetupNames: ReadonlyArray<SetupName> = ["none", "one", "two"]

export interface Setup {
  readonly name: SetupName
  readonly namespace: string
  readonly replicas: ReadonlyArray<Replica>
  /** The Service stand-in in front of the replicas (none for `none`). */
  readonly proxy: RoundRobinProxy | undefined
  /** The env var the stored Pod must carry (the webhook's injection), or "" for `none`. */
  readonly expectEnv: string
}

export interface Cluster {
  readonly ctx: ControlPlaneInfo
  readonly api: Api
  readonly dir: string
  readonly podFile: string
  readonly setups: ReadonlyArray<Setup>
  /** Who creates the Pods: a ServiceAccount like flytepropeller's, allowed to create Pods and nothing else. */
  readonly creator: Identity
  readonly pids: { readonly apiserver: number; readonly etcd: number }
  /** Where the load generator runs: taskset's core list, or undefined without pinning. */
  readonly generatorCores: string | undefined
  readonly pinned: string
  readonly stop: () => Promise<void>
}

/** The env var the webhook adds for the fixture's secret (group db-creds, key password, as an env var). */
export const InjectedEnv = "_FSEC_DB-CREDS_PASSWORD"
const Fixture = path.join(RepoRoot, "bench", "flyte-task-pod-review.json")

/**
 * podCreator: the identity the load generator creates Pods as, like flytepropeller: a ServiceAccount that may
 * create Pods. Not the admin: system:masters is exempt from API Priority and Fairness, so the API server would
 * take any number of creations at once (and open as many connections to the webhook); a ServiceAccount is held
 * to its priority level's seats and queues, as in a cluster, and overload shows as 429s.
 */
const podCreator = async (ctx: ControlPlaneInfo, api: Api, dir: string): Promise<Identity> => {
  const name = "bench-pod-creator"
  await api.ok("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", {
    body: { metadata: { name }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["create"] }] }
  })
  await api.ok("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
    body: {
      metadata: { name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ kind: "ServiceAccount", name: "flytepropeller", namespace: "flyte" }]
    }
  })
  return serviceAccountIdentity(ctx, "flyte", "flytepropeller", dir)
}

const buildBinaries = (): string => {
  const ran = spawnSync("bash", [path.join(RepoRoot, "test/e2e/tools/build.sh")], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] })
  if (ran.status !== 0) throw new Error(`test/e2e/tools/build.sh failed (exit ${ran.status}); it needs Go >= 1.26 (docs/e2e.md)`)
  return ran.stdout.trim().split("\n").at(-1) ?? ""
}

/** podFile: the fixture's Pod (its secret annotation and inject label), with no namespace: the URL names it. */
const writePod = (dir: string): string => {
  const pod = JSON.parse(fs.readFileSync(Fixture, "utf8")).request.object
  delete pod.metadata.namespace
  const file = path.join(dir, "pod.json")
  fs.writeFileSync(file, JSON.stringify(pod))
  return file
}

export const startCluster = async (log: (line: string) => void): Promise<Cluster> => {
  const binDir = buildBinaries()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-bench-cluster-"))
  // Compaction every minute and a larger etcd quota: a run creates and deletes hundreds of thousands of Pods.
  const controlPlane = new ControlPlane(binDir, dir, {
    audit: false,
    etcdArgs: ["--quota-backend-bytes=8589934592"],
    apiserverArgs: ["--etcd-compaction-interval=1m"]
  })
  const deployments: Array<Deployment> = []
  let api: Api | undefined
  const stop = async () => {
    api?.close()
    await Promise.all(deployments.map((d) => d.stop()))
    await controlPlane.stop()
    await stopAll()
    if (process.env["KEEP_BENCH_TMP"] !== "1") fs.rmSync(dir, { recursive: true, force: true })
  }
  try {
    const ctx = await controlPlane.start()
    api = new Api(ctx.server, ctx.caFile, ctx.admin)
    await installRbac(ctx, InstallNamespace, { clusterScoped: true })
    const pids = { apiserver: childPid("kube-apiserver") ?? Number.NaN, etcd: childPid("etcd") ?? Number.NaN }
    const pinned = pinning()
    if (pinned) {
      pin(pids.apiserver, "0")
      pin(pids.etcd, "0")
      pin(process.pid, "1")
    }
    const certDir = path.join(dir, "certs")
    await prepareCerts(ctx, dir, certDir)
    const env = imageEnv()
    for (const [name, replicas] of [["one", 1], ["two", 2]] as const) {
      log(`starting webhook deployment "${name}" (${replicas} replica${replicas > 1 ? "s" : ""})`)
      // The default registration check (60 s) instead of the harness's 2 s: its API calls would count as load.
      const webhook = { registrationCheckInterval: "60s" }
      deployments.push(await Deployment.startBeside({ name, ctx, dir, certDir, replicas, env, webhook }))
    }
    const setups: Array<Setup> = []
    const none = uniqueName("bench-none")
    await api.createNamespace(none)
    setups.push({ name: "none", namespace: none, replicas: [], proxy: undefined, expectEnv: "" })
    for (const deployment of deployments) {
      if (pinned) for (const replica of deployment.replicas) pin(replica.process.pid!, "1")
      const namespace = await deployment.namespace(api, `bench-${deployment.name}`)
      setups.push({ name: deployment.name as SetupName, namespace, replicas: deployment.replicas, proxy: deployment.proxy, expectEnv: InjectedEnv })
    }
    return {
      ctx,
      api,
      dir,
      creator: await podCreator(ctx, api, dir),
      podFile: writePod(dir),
      setups,
      pids,
      generatorCores: pinned ? "1" : undefined,
      pinned: pinned
        ? "core 0: etcd + kube-apiserver; core 1: webhook replicas, the Service stand-in (this process), the load generator"
        : "not pinned (BENCH_PIN=0, one core, or no taskset)",
      stop
    }
  } catch (error) {
    await stop()
    throw error
  }
}
