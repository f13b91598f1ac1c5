/**
 * ControlPlane: a real etcd and kube-apiserver on loopback, as controller-runtime's envtest runs them (flags in
 * test/e2e/tools/smoke.sh, the reference): client-certificate authentication against a throwaway CA, RBAC
 * authorization, the ServiceAccount admission plugin off, service-account signing keys, its own serving
 * certificate, plus an audit policy that records Pod writes at level Request. No kubelet, scheduler or
 * controllers: Pods stay Pending and namespaces never finish deleting, which is all admission needs.
 *
 * The API server also presents a client certificate to the one webhook address the client-certificate scenario
 * registers (AdmissionAuth.ts, `--admission-control-config-file`); every other webhook is called as before.
 *
 * It also writes the kubeconfigs the tests use: an admin (system:masters) and two ServiceAccount-like
 * identities with only what our deploy manifests grant them (RBAC ServiceAccount subjects match the user
 * `system:serviceaccount:<ns>:<name>`, whatever authenticated it): the webhook and the init-certs Job.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { prepareAdmissionAuth, type WebhookClientAuth } from "./AdmissionAuth.ts"
import { Api, type Identity } from "./Api.ts"
import { kubeconfigText } from "./Identities.ts"
import { issue, makeCa, serviceAccountKeys } from "./Pki.ts"
import { ManagedProcess } from "./Processes.ts"
import { freePort, until } from "./Wait.ts"

/** The namespace the webhook is "installed" in (deploy/base's default). */
export const InstallNamespace = "flyte"

export interface ControlPlaneInfo {
  readonly dir: string
  readonly binDir: string
  readonly server: string
  readonly caFile: string
  /** The client CA's key, so tests can mint more identities (serviceAccountIdentity). */
  readonly caKeyFile: string
  readonly auditLog: string
  readonly logs: ReadonlyArray<string>
  readonly admin: Identity
  /** ServiceAccount flyte-pod-webhook in InstallNamespace. */
  readonly webhook: Identity
  /** ServiceAccount flyte-pod-webhook-init-certs in InstallNamespace. */
  readonly initCerts: Identity
  /** The webhook address the API server presents a client certificate to, and those certificates. */
  readonly webhookClientAuth: WebhookClientAuth
}

/**
 * Audit policy: Pods (and the webhook configuration) at level Request, which records the request body and the
 * API server's `patch.webhook.admission.k8s.io/*` annotation with the full patch of every mutating webhook.
 * Secrets at Metadata, as every production policy has it: at Request the Secret's own create would put its
 * value in the log, which says nothing about the webhook.
 */
const AuditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    resources:
      - group: ""
        resources: [secrets, configmaps]
  - level: Request
    resources:
      - group: ""
        resources: [pods]
      - group: admissionregistration.k8s.io
        resources: [mutatingwebhookconfigurations]
  - level: Metadata
`

const portClash = (process: ManagedProcess) => /address already in use/.test(process.log())

const exitedReason = (process: ManagedProcess) => () =>
  process.alive ? undefined : `${process.name} exited; see ${process.logFile}`

const MaxTries = 3

/** For bench/cluster.ts: no audit log (it costs the API server per Pod), and extra flags. */
export interface ControlPlaneOptions {
  readonly audit?: boolean
  readonly etcdArgs?: ReadonlyArray<string>
  readonly apiserverArgs?: ReadonlyArray<string>
}

export class ControlPlane {
  private etcd: ManagedProcess | undefined
  private apiserver: ManagedProcess | undefined
  info: ControlPlaneInfo | undefined

  private readonly binDir: string
  private readonly dir: string
  private readonly options: ControlPlaneOptions

  constructor(binDir: string, dir: string, options: ControlPlaneOptions = {}) {
    this.binDir = binDir
    this.dir = dir
    this.options = options
  }

  async start(): Promise<ControlPlaneInfo> {
    const pki = path.join(this.dir, "pki")
    fs.mkdirSync(pki, { recursive: true })
    const write = (name: string, text: string) => {
      const file = path.join(pki, name)
      fs.writeFileSync(file, text, { mode: 0o600 })
      return file
    }
    const ca = makeCa("e2e-ca")
    const caFile = write("ca.crt", ca.certPem)
    const caKeyFile = write("ca.key", ca.keyPem)
    const serving = issue(ca, { commonName: "kube-apiserver", names: ["127.0.0.1", "localhost"] })
    const sa = serviceAccountKeys()
    const auditPolicy = path.join(this.dir, "audit-policy.yaml")
    fs.writeFileSync(auditPolicy, AuditPolicy)
    const auditLog = path.join(this.dir, "audit.log")
    const leaf = (name: string, user: string, groups: ReadonlyArray<string>) => {
      const issued = issue(ca, { commonName: user, organizations: groups })
      return { name, user, certPem: issued.certPem, keyPem: issued.keyPem, certFile: write(`${name}.crt`, issued.certPem), keyFile: write(`${name}.key`, issued.keyPem) }
    }
    const serviceAccount = (name: string) =>
      leaf(name, `system:serviceaccount:${InstallNamespace}:${name}`, [
        "system:serviceaccounts",
        `system:serviceaccounts:${InstallNamespace}`
      ])
    const users = {
      admin: leaf("admin", "e2e-admin", ["system:masters"]),
      webhook: serviceAccount("flyte-pod-webhook"),
      initCerts: serviceAccount("flyte-pod-webhook-init-certs")
    }

    const admission = await prepareAdmissionAuth(path.join(pki, "admission"))
    const etcdPort = await this.startEtcd()
    const server = await this.startApiServer(etcdPort, {
      admissionConfig: admission.configFile,
      caFile,
      certFile: write("apiserver.crt", serving.certPem),
      keyFile: write("apiserver.key", serving.keyPem),
      saKey: write("sa.key", sa.privatePem),
      saPub: write("sa.pub", sa.publicPem),
      auditPolicy,
      auditLog
    }, { user: users.admin.user, kubeconfig: "", certFile: users.admin.certFile, keyFile: users.admin.keyFile })

    const identity = (user: (typeof users)[keyof typeof users]): Identity => {
      const kubeconfig = path.join(this.dir, `${user.name}.kubeconfig`)
      fs.writeFileSync(kubeconfig, kubeconfigText(server, ca.certPem, user.user, user.certPem, user.keyPem), { mode: 0o600 })
      return { user: user.user, kubeconfig, certFile: user.certFile, keyFile: user.keyFile }
    }
    this.info = {
      dir: this.dir,
      binDir: this.binDir,
      server,
      caFile,
      caKeyFile,
      auditLog,
      logs: [this.etcd!.logFile, this.apiserver!.logFile],
      admin: identity(users.admin),
      webhook: identity(users.webhook),
      initCerts: identity(users.initCerts),
      webhookClientAuth: admission.auth
    }
    return this.info
  }

  private async startEtcd(): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      const client = await freePort()
      const peer = await freePort()
      const data = path.join(this.dir, "etcd-data")
      fs.rmSync(data, { recursive: true, force: true })
      const etcd = new ManagedProcess({
        name: "etcd",
        command: path.join(this.binDir, "etcd"),
        args: [
          "--name=e2e",
          `--data-dir=${data}`,
          `--listen-client-urls=http://127.0.0.1:${client}`,
          `--advertise-client-urls=http://127.0.0.1:${client}`,
          `--listen-peer-urls=http://127.0.0.1:${peer}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${peer}`,
          `--initial-cluster=e2e=http://127.0.0.1:${peer}`,
          "--unsafe-no-fsync=true",
          "--log-level=warn",
          ...(this.options.etcdArgs ?? [])
        ],
        logFile: path.join(this.dir, "etcd.log")
      })
      this.etcd = etcd
      try {
        await until("etcd /health", async () => {
          const answer = await fetch(`http://127.0.0.1:${client}/health`, { signal: AbortSignal.timeout(2_000) })
          return answer.ok ? true : undefined
        }, { timeoutMs: 30_000, abort: exitedReason(etcd) })
        return client
      } catch (error) {
        await etcd.stop()
        if (attempt < MaxTries && portClash(etcd)) continue
        throw error
      }
    }
  }

  private async startApiServer(
    etcdPort: number,
    files: {
      readonly admissionConfig: string
      readonly caFile: string
      readonly certFile: string
      readonly keyFile: string
      readonly saKey: string
      readonly saPub: string
      readonly auditPolicy: string
      readonly auditLog: string
    },
    admin: Identity
  ): Promise<string> {
    const certDir = path.join(this.dir, "apiserver-certs")
    fs.mkdirSync(certDir, { recursive: true })
    for (let attempt = 1; ; attempt++) {
      const port = await freePort()
      const apiserver = new ManagedProcess({
        name: "kube-apiserver",
        command: path.join(this.binDir, "kube-apiserver"),
        args: [
          `--etcd-servers=http://127.0.0.1:${etcdPort}`,
          `--cert-dir=${certDir}`,
          `--tls-cert-file=${files.certFile}`,
          `--tls-private-key-file=${files.keyFile}`,
          `--secure-port=${port}`,
          "--bind-address=127.0.0.1",
          "--advertise-address=127.0.0.1",
          // v1.37 refuses a loopback advertise address with the default endpoint reconciler (see tools/README.md)
          "--endpoint-reconciler-type=none",
          "--authorization-mode=RBAC",
          `--client-ca-file=${files.caFile}`,
          "--service-cluster-ip-range=10.0.0.0/24",
          "--allow-privileged=true",
          "--disable-admission-plugins=ServiceAccount",
          `--service-account-issuer=https://127.0.0.1:${port}/`,
          `--service-account-key-file=${files.saPub}`,
          `--service-account-signing-key-file=${files.saKey}`,
          ...(this.options.audit === false
            ? []
            : [`--audit-policy-file=${files.auditPolicy}`, `--audit-log-path=${files.auditLog}`, "--audit-log-format=json"]),
          `--admission-control-config-file=${files.admissionConfig}`,
          ...(this.options.apiserverArgs ?? [])
        ],
        logFile: path.join(this.dir, "kube-apiserver.log")
      })
      this.apiserver = apiserver
      const server = `https://127.0.0.1:${port}`
      const api = new Api(server, files.caFile, admin)
      try {
        await until("the API server's /healthz", async () =>
          (await api.request("GET", "/healthz", { timeoutMs: 5_000 })).status === 200 ? true : undefined, {
          timeoutMs: 90_000,
          abort: exitedReason(apiserver)
        })
        await until("the default namespace", async () =>
          (await api.request("GET", "/api/v1/namespaces/default", { timeoutMs: 5_000 })).status === 200 ? true : undefined, {
          timeoutMs: 30_000,
          abort: exitedReason(apiserver)
        })
        return server
      } catch (error) {
        await apiserver.stop()
        if (attempt < MaxTries && portClash(apiserver)) continue
        throw error
      } finally {
        api.close()
      }
    }
  }

  /** stop: the API server, then etcd (each SIGTERM, then SIGKILL after 10 s). */
  async stop(): Promise<void> {
    await this.apiserver?.stop()
    await this.etcd?.stop()
  }
}
