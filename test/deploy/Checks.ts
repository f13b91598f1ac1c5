/**
 * Checks: the properties every rendering of the deployment must have (deploy/base as written, the kustomize
 * overlays and the Helm chart as rendered), each an assertion over a set of objects and the webhook config
 * they carry. Sources: issue 6 (hardening, RBAC, probes, grace period), spec section 5 (registration).
 */
import { assert } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import type { WebhookConfigShape } from "../../src/WebhookConfig.ts"
import { type K8sObject, repoRoot } from "./Manifests.ts"

// ---- The fields read here -----------------------------------------------------------------------------------

interface SecurityContext {
  readonly runAsNonRoot?: boolean
  readonly runAsUser?: number
  readonly allowPrivilegeEscalation?: boolean
  readonly readOnlyRootFilesystem?: boolean
  readonly privileged?: boolean
  readonly capabilities?: { readonly drop?: ReadonlyArray<string>; readonly add?: ReadonlyArray<string> }
  readonly seccompProfile?: { readonly type?: string }
}
interface Probe { readonly httpGet?: { readonly path?: string; readonly port?: string | number } }
interface Container {
  readonly name: string
  readonly args?: ReadonlyArray<string>
  readonly ports?: ReadonlyArray<{ readonly name?: string; readonly containerPort: number }>
  readonly env?: ReadonlyArray<{
    readonly name: string
    readonly value?: string
    readonly valueFrom?: { readonly fieldRef?: { readonly fieldPath?: string } }
  }>
  readonly livenessProbe?: Probe
  readonly readinessProbe?: Probe
  readonly resources?: {
    readonly requests?: Readonly<Record<string, unknown>>
    readonly limits?: Readonly<Record<string, unknown>>
  }
  readonly securityContext?: SecurityContext
  readonly volumeMounts?: ReadonlyArray<{ readonly name: string; readonly mountPath: string; readonly readOnly?: boolean }>
}
interface Volume {
  readonly name: string
  readonly hostPath?: unknown
  readonly secret?: { readonly secretName?: string; readonly items?: ReadonlyArray<{ readonly key: string; readonly path: string }> }
  readonly configMap?: { readonly name?: string }
}
interface PodSpec {
  readonly serviceAccountName?: string
  readonly automountServiceAccountToken?: boolean
  readonly enableServiceLinks?: boolean
  readonly terminationGracePeriodSeconds?: number
  readonly hostNetwork?: boolean
  readonly hostPID?: boolean
  readonly hostIPC?: boolean
  readonly securityContext?: SecurityContext
  readonly containers: ReadonlyArray<Container>
  readonly initContainers?: ReadonlyArray<Container>
  readonly volumes?: ReadonlyArray<Volume>
}
interface PodTemplate {
  readonly metadata?: { readonly labels?: Readonly<Record<string, string>>; readonly annotations?: Readonly<Record<string, string>> }
  readonly spec: PodSpec
}
interface Rule {
  readonly apiGroups?: ReadonlyArray<string>
  readonly resources?: ReadonlyArray<string>
  readonly resourceNames?: ReadonlyArray<string>
  readonly verbs: ReadonlyArray<string>
}

const spec = <A>(object: K8sObject): A => object["spec"] as A

export const byKind = (objects: ReadonlyArray<K8sObject>, kind: string): ReadonlyArray<K8sObject> =>
  objects.filter((o) => o.kind === kind)

export const one = (objects: ReadonlyArray<K8sObject>, kind: string, name: string): K8sObject => {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name)
  assert.strictEqual(found.length, 1, `exactly one ${kind} ${name} (found ${found.length})`)
  return found[0] as K8sObject
}

/** podTemplate: the pod template of a Deployment or Job. */
export const podTemplate = (workload: K8sObject): PodTemplate => spec<{ template: PodTemplate }>(workload).template

export const workloads = (objects: ReadonlyArray<K8sObject>): ReadonlyArray<K8sObject> =>
  objects.filter((o) => o.kind === "Deployment" || o.kind === "Job")

const isHook = (object: K8sObject) => object.metadata.annotations?.["helm.sh/hook"] !== undefined

// ---- Properties ---------------------------------------------------------------------------------------------

/** checkHardening: every pod runs non-root (65532), read-only, no capabilities, RuntimeDefault seccomp, with
 * requests and limits, no host namespaces or paths, no Service env vars; ServiceAccounts mount no token unless
 * a pod opts in. Returns how many workloads it checked. */
export const checkHardening = (objects: ReadonlyArray<K8sObject>): number => {
  const list = workloads(objects)
  for (const workload of list) {
    const where = `${workload.kind} ${workload.metadata.name}`
    const pod = podTemplate(workload).spec
    assert.strictEqual(pod.securityContext?.runAsNonRoot, true, `${where}: pod runAsNonRoot`)
    assert.strictEqual(pod.securityContext?.runAsUser, 65532, `${where}: pod runAsUser`)
    assert.strictEqual(pod.securityContext?.seccompProfile?.type, "RuntimeDefault", `${where}: pod seccomp`)
    assert.notStrictEqual(pod.hostNetwork, true, `${where}: hostNetwork`)
    assert.notStrictEqual(pod.hostPID, true, `${where}: hostPID`)
    assert.notStrictEqual(pod.hostIPC, true, `${where}: hostIPC`)
    assert.strictEqual(pod.enableServiceLinks, false, `${where}: enableServiceLinks`)
    assert.strictEqual(pod.automountServiceAccountToken, true, `${where}: talks to the API, opts in to its token`)
    assert.isString(pod.serviceAccountName, `${where}: own ServiceAccount`)
    for (const volume of pod.volumes ?? []) assert.isUndefined(volume.hostPath, `${where}: hostPath ${volume.name}`)
    for (const container of [...pod.containers, ...(pod.initContainers ?? [])]) {
      const at = `${where} container ${container.name}`
      const sc = container.securityContext
      assert.strictEqual(sc?.allowPrivilegeEscalation, false, `${at}: allowPrivilegeEscalation`)
      assert.strictEqual(sc?.readOnlyRootFilesystem, true, `${at}: readOnlyRootFilesystem`)
      assert.strictEqual(sc?.runAsNonRoot, true, `${at}: runAsNonRoot`)
      assert.notStrictEqual(sc?.privileged, true, `${at}: privileged`)
      assert.deepStrictEqual(sc?.capabilities?.drop, ["ALL"], `${at}: drop ALL capabilities`)
      assert.isUndefined(sc?.capabilities?.add, `${at}: adds no capability`)
      assert.strictEqual(sc?.seccompProfile?.type, "RuntimeDefault", `${at}: seccomp`)
      for (const kind of ["requests", "limits"] as const) {
        for (const resource of ["cpu", "memory"]) {
          assert.isDefined(container.resources?.[kind]?.[resource], `${at}: ${kind}.${resource}`)
        }
      }
      const tmp = container.volumeMounts?.find((m) => m.mountPath === "/tmp")
      assert.isDefined(tmp, `${at}: a writable /tmp beside the read-only root`)
    }
  }
  for (const account of byKind(objects, "ServiceAccount")) {
    assert.strictEqual(account["automountServiceAccountToken"], false, `ServiceAccount ${account.metadata.name}`)
  }
  return list.length
}

/** checkNoSelfInjection: no object and no pod template carries the label the webhook selects on. */
export const checkNoSelfInjection = (objects: ReadonlyArray<K8sObject>): void => {
  for (const object of objects) {
    assert.notProperty(object.metadata.labels ?? {}, "inject-flyte-secrets", `${object.kind} ${object.metadata.name}`)
  }
  for (const workload of workloads(objects)) {
    assert.notProperty(
      podTemplate(workload).metadata?.labels ?? {},
      "inject-flyte-secrets",
      `${workload.kind} ${workload.metadata.name}: its pods would be sent to the webhook itself`
    )
  }
}

const env = (container: Container, name: string) => container.env?.find((e) => e.name === name)?.valueFrom?.fieldRef?.fieldPath

/** The image's NODE_OPTIONS (the Dockerfile's `ENV NODE_OPTIONS="..."`): V8's heap sizes. */
export const imageNodeOptions = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(
  fs.readFileSync(path.join(repoRoot, "Dockerfile"), "utf8")
)?.[1]

/** mebibytes of a Kubernetes memory quantity (Mi, Gi, M, G or bytes). */
const mebibytes = (quantity: unknown): number => {
  const m = /^(\d+(?:\.\d+)?)(Mi|Gi|M|G)?$/.exec(String(quantity))
  if (m === null) return Number.NaN
  const n = Number(m[1])
  return m[2] === "Mi" ? n : m[2] === "Gi" ? n * 1024 : m[2] === "M" ? (n * 1e6) / 2 ** 20 : m[2] === "G" ? (n * 1e9) / 2 ** 20 : n / 2 ** 20
}

/**
 * checkHeapFitsLimit: the container's NODE_OPTIONS is the image's, and its memory limit holds V8's heap at
 * its largest (old generation + three semi-spaces) plus 128 MiB for code, Buffers and TLS (docs/serve.md,
 * "Memory": the webhook idles at ~150-180 MiB of which the heap is a fraction).
 */
const checkHeapFitsLimit = (container: Container): void => {
  const options = container.env?.find((e) => e.name === "NODE_OPTIONS")?.value
  assert.isDefined(imageNodeOptions, "the Dockerfile sets NODE_OPTIONS")
  assert.strictEqual(options, imageNodeOptions, "NODE_OPTIONS as in the image")
  const flag = (name: string) => Number(new RegExp(`--${name}=(\\d+)`).exec(options ?? "")?.[1])
  const heap = flag("max-old-space-size") + 3 * flag("max-semi-space-size")
  assert.isAtLeast(mebibytes(container.resources?.limits?.["memory"]), heap + 128, `memory limit >= heap ${heap} MiB + 128 MiB`)
}

/** checkDeployment: the webhook's Deployment agrees with its config (ports, probes, certs, grace period). */
export const checkDeployment = (objects: ReadonlyArray<K8sObject>, config: WebhookConfigShape): void => {
  const w = config.webhook
  const deployment = one(objects, "Deployment", w.serviceName)
  const template = podTemplate(deployment)
  const pod = template.spec
  assert.strictEqual(pod.containers.length, 1)
  const container = pod.containers[0] as Container
  assert.deepStrictEqual(container.args, ["serve", "--config", "/etc/flyte/config/config.yaml"])
  const port = (name: string) => container.ports?.find((p) => p.name === name)?.containerPort
  assert.strictEqual(port("https"), w.listenPort, "container port https = webhook.listenPort")
  assert.strictEqual(port("probes"), w.probePort, "container port probes = webhook.probePort")
  assert.deepStrictEqual(container.livenessProbe?.httpGet, { path: "/healthz", port: "probes" })
  assert.deepStrictEqual(container.readinessProbe?.httpGet, { path: "/readyz", port: "probes" })
  assert.strictEqual(env(container, "POD_NAMESPACE"), "metadata.namespace")
  assert.strictEqual(env(container, "POD_NAME"), "metadata.name")
  checkHeapFitsLimit(container)
  const grace = pod.terminationGracePeriodSeconds ?? 30
  assert.isAbove(grace, w.drainDelaySeconds + w.shutdownTimeoutSeconds, "grace period > drainDelay + shutdownTimeout")

  const mount = (path: string) => container.volumeMounts?.find((m) => m.mountPath === path)
  const certs = mount(w.certDir)
  assert.isDefined(certs, "the Secret is mounted at webhook.certDir")
  assert.strictEqual(certs?.readOnly, true)
  const certVolume = pod.volumes?.find((v) => v.name === certs?.name)
  assert.strictEqual(certVolume?.secret?.secretName, w.secretName, "the mounted Secret is webhook.secretName")
  assert.sameMembers((certVolume?.secret?.items ?? []).map((i) => i.key), ["tls.crt", "tls.key", "ca.crt"], "not ca.key")
  const configMount = mount("/etc/flyte/config")
  assert.strictEqual(configMount?.readOnly, true)
  assert.isString(pod.volumes?.find((v) => v.name === configMount?.name)?.configMap?.name)

  const annotations = template.metadata?.annotations ?? {}
  assert.strictEqual(annotations["prometheus.io/scrape"], "true")
  assert.strictEqual(annotations["prometheus.io/port"], String(w.probePort))
  assert.strictEqual(annotations["prometheus.io/path"], "/metrics")
  const strategy = spec<{ strategy?: { rollingUpdate?: { maxUnavailable?: number } } }>(deployment).strategy
  assert.strictEqual(strategy?.rollingUpdate?.maxUnavailable, 0, "upgrades never drop below the serving count")
}

const selects = (selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>) =>
  selector !== undefined && Object.keys(selector).length > 0 &&
  Object.entries(selector).every(([key, value]) => labels[key] === value)

/** checkService: 443 (webhook.servicePort) to the container port webhook.listenPort, selecting the webhook. */
export const checkService = (objects: ReadonlyArray<K8sObject>, config: WebhookConfigShape): void => {
  const w = config.webhook
  const service = one(objects, "Service", w.serviceName)
  const s = spec<{ type?: string; selector?: Record<string, string>; ports: ReadonlyArray<{ name?: string; port: number; targetPort?: string | number }> }>(service)
  assert.strictEqual(s.type ?? "ClusterIP", "ClusterIP")
  assert.strictEqual(s.ports.length, 1)
  const port = s.ports[0]
  assert.strictEqual(port?.name, "https")
  assert.strictEqual(port?.port, 443)
  assert.strictEqual(port?.port, w.servicePort)
  const template = podTemplate(one(objects, "Deployment", w.serviceName))
  const target = port?.targetPort
  const resolved = typeof target === "string"
    ? template.spec.containers[0]?.ports?.find((p) => p.name === target)?.containerPort
    : target
  assert.strictEqual(resolved, 9443, "443 -> 9443")
  assert.strictEqual(resolved, w.listenPort)
  assert.isTrue(selects(s.selector, template.metadata?.labels ?? {}), "the Service selects the webhook's pods")
  for (const job of byKind(objects, "Job")) {
    assert.isFalse(selects(s.selector, podTemplate(job).metadata?.labels ?? {}), `the Service must not select ${job.metadata.name}`)
  }
}

/** checkPodDisruptionBudget: selects the webhook's pods, with the expected budget. */
export const checkPodDisruptionBudget = (
  objects: ReadonlyArray<K8sObject>,
  config: WebhookConfigShape,
  expected: { readonly minAvailable?: number; readonly maxUnavailable?: number }
): void => {
  const pdb = one(objects, "PodDisruptionBudget", config.webhook.serviceName)
  const s = spec<{ minAvailable?: number; maxUnavailable?: number | null; unhealthyPodEvictionPolicy?: string; selector: { matchLabels: Record<string, string> } }>(pdb)
  assert.strictEqual(s.minAvailable, expected.minAvailable)
  assert.strictEqual(s.maxUnavailable ?? undefined, expected.maxUnavailable)
  assert.strictEqual(s.unhealthyPodEvictionPolicy, "AlwaysAllow")
  const labels = podTemplate(one(objects, "Deployment", config.webhook.serviceName)).metadata?.labels ?? {}
  assert.isTrue(selects(s.selector.matchLabels, labels))
}

const forbiddenVerbs = ["*", "list", "watch", "deletecollection", "escalate", "bind", "impersonate"]

/** The webhook's grant on its MutatingWebhookConfiguration per registration mode (Registrar.registrationMode):
 * full get/create/patch, caBundleOnly get/patch, none (cainjector or the GitOps tool writes caBundle): nothing. */
export type RegistrationGrant = "full" | "caBundleOnly" | "none"

/** checkRbac: nothing wildcard, nothing listable, names wherever the verb allows them, Secrets only in a Role,
 * at most one cluster-scoped grant, on the webhook's own configuration, and the webhook's Secret access exactly
 * get + update on its one Secret (it renews its own certificates; init-certs creates the Secret). */
export const checkRbac = (
  objects: ReadonlyArray<K8sObject>,
  config: WebhookConfigShape,
  mode: RegistrationGrant
): void => {
  const w = config.webhook
  for (const role of [...byKind(objects, "Role"), ...byKind(objects, "ClusterRole")]) {
    const where = `${role.kind} ${role.metadata.name}`
    const rules = role["rules"] as ReadonlyArray<Rule>
    assert.isAbove(rules.length, 0, where)
    for (const rule of rules) {
      for (const field of [rule.verbs, rule.resources ?? [], rule.apiGroups ?? []]) {
        assert.notInclude(field, "*", `${where}: no wildcard`)
      }
      for (const verb of rule.verbs) assert.notInclude(forbiddenVerbs, verb, `${where}: ${verb}`)
      if (rule.resourceNames === undefined) {
        // Only `create` cannot be named, and only a Secret in the install namespace needs it.
        assert.deepStrictEqual(rule.verbs, ["create"], `${where}: a rule without resourceNames is create only`)
        assert.deepStrictEqual(rule.resources, ["secrets"], `${where}: unnamed create is for the Secret only`)
        assert.strictEqual(role.kind, "Role", `${where}: unnamed create only in a namespaced Role`)
      } else if ((rule.resources ?? []).includes("secrets")) {
        assert.deepStrictEqual(rule.resourceNames, [w.secretName], where)
        assert.strictEqual(role.kind, "Role", `${where}: Secrets only in the install namespace`)
      } else {
        assert.deepStrictEqual(rule.apiGroups, ["admissionregistration.k8s.io"], where)
        assert.deepStrictEqual(rule.resources, ["mutatingwebhookconfigurations"], where)
        assert.deepStrictEqual(rule.resourceNames, [w.serviceName], where)
      }
    }
  }
  if (mode === "none") {
    assert.lengthOf(byKind(objects, "ClusterRole").filter((r) => r.metadata.name === w.serviceName), 0, "no ClusterRole for the webhook")
  } else {
    const webhookRole = one(objects, "ClusterRole", w.serviceName)
    const verbs = (webhookRole["rules"] as ReadonlyArray<Rule>).flatMap((r) => r.verbs)
    assert.sameMembers(verbs, mode === "full" ? ["get", "create", "patch"] : ["get", "patch"], "the webhook's ClusterRole")
  }
  const secretRole = one(objects, "Role", w.serviceName)
  assert.deepStrictEqual(secretRole["rules"], [
    { apiGroups: [""], resources: ["secrets"], resourceNames: [w.secretName], verbs: ["get", "update"] }
  ], "the webhook's Role: get + update on its one Secret, no create (files mode: init-certs creates it)")

  const roles = new Set([...byKind(objects, "Role"), ...byKind(objects, "ClusterRole")].map((r) => `${r.kind}/${r.metadata.name}`))
  const accounts = new Set(byKind(objects, "ServiceAccount").map((a) => a.metadata.name))
  const webhookAccount = podTemplate(one(objects, "Deployment", w.serviceName)).spec.serviceAccountName
  const webhookGrants: Array<string> = []
  for (const binding of [...byKind(objects, "RoleBinding"), ...byKind(objects, "ClusterRoleBinding")]) {
    const roleRef = binding["roleRef"] as { kind: string; name: string }
    const subjects = binding["subjects"] as ReadonlyArray<{ kind: string; name: string }>
    assert.isTrue(roles.has(`${roleRef.kind}/${roleRef.name}`), `${binding.metadata.name} binds an existing role`)
    for (const subject of subjects) {
      assert.strictEqual(subject.kind, "ServiceAccount")
      assert.isTrue(accounts.has(subject.name), `${binding.metadata.name} binds an existing ServiceAccount`)
      if (subject.name === webhookAccount) webhookGrants.push(`${binding.kind}->${roleRef.kind}/${roleRef.name}`)
    }
  }
  assert.sameMembers(webhookGrants, [
    ...(mode === "none" ? [] : [`ClusterRoleBinding->ClusterRole/${w.serviceName}`]),
    `RoleBinding->Role/${w.serviceName}`
  ], mode === "none" ? "the webhook holds only its Secret Role" : "the webhook holds only its ClusterRole and its Secret Role")
  for (const workload of workloads(objects)) {
    assert.isTrue(accounts.has(podTemplate(workload).spec.serviceAccountName ?? ""), `${workload.metadata.name}'s ServiceAccount exists`)
  }
}

/** checkInitCerts: the seed's Job runs init-certs under an account that may create and renew the Secret; no
 * CronJob renews it (the webhook renews its own certificates). */
export const checkInitCerts = (objects: ReadonlyArray<K8sObject>, config: WebhookConfigShape): void => {
  const job = one(objects, "Job", "flyte-pod-webhook-secrets")
  const js = spec<{ backoffLimit?: number; ttlSecondsAfterFinished?: number }>(job)
  assert.isNumber(js.backoffLimit)
  assert.isNumber(js.ttlSecondsAfterFinished)
  assert.lengthOf(byKind(objects, "CronJob"), 0, "no renewal CronJob: the webhook renews its own certificates")
  const pod = podTemplate(job).spec
  assert.strictEqual(pod.containers.length, 1)
  assert.deepStrictEqual(pod.containers[0]?.args, ["init-certs", "--config", "/etc/flyte/config/config.yaml"])
  const account = pod.serviceAccountName
  const binding = byKind(objects, "RoleBinding").find((b) =>
    (b["subjects"] as ReadonlyArray<{ name: string }>).some((s) => s.name === account))
  assert.isDefined(binding, "init-certs' account is bound")
  const role = one(objects, "Role", (binding?.["roleRef"] as { name: string }).name)
  const verbs = (role["rules"] as ReadonlyArray<Rule>).flatMap((r) => r.verbs)
  assert.sameMembers(verbs, ["get", "update", "create"], `init-certs may create and renew ${config.webhook.secretName}`)
  assert.strictEqual(isHook(job), isHook(role), "init-certs' Job and its Role live equally long")
}

/** The registration of spec section 5, for the Service in `namespace`. */
export const expectedWebhook = (namespace: string) => ({
  name: "flyte-pod-webhook.flyte.org",
  clientConfig: { service: { name: "flyte-pod-webhook", namespace, path: "/mutate--v1-pod", port: 443 } },
  rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], scope: "*" }],
  objectSelector: { matchLabels: { "inject-flyte-secrets": "true" } },
  admissionReviewVersions: ["v1", "v1beta1"],
  sideEffects: "None",
  failurePolicy: "Fail",
  timeoutSeconds: 10,
  reinvocationPolicy: "IfNeeded",
  matchPolicy: "Equivalent"
})

/** checkRegistration: the GitOps manifest is spec section 5 exactly, without a caBundle (the webhook owns it). */
export const checkRegistration = (objects: ReadonlyArray<K8sObject>, namespace: string): void => {
  const configuration = one(objects, "MutatingWebhookConfiguration", "flyte-pod-webhook")
  assert.strictEqual(configuration.apiVersion, "admissionregistration.k8s.io/v1")
  assert.deepStrictEqual(configuration["webhooks"], [expectedWebhook(namespace)])
}

/**
 * checkCaInjection: the locked-down GitOps install (issue 10, finding 4). The webhook is configured to touch no
 * MutatingWebhookConfiguration (Registrar mode `off`) and holds no grant on any; cert-manager's cainjector
 * writes the caBundle from the webhook's Secret, which opts in to direct injection.
 */
export const checkCaInjection = (objects: ReadonlyArray<K8sObject>, config: WebhookConfigShape, namespace: string): void => {
  const w = config.webhook
  assert.isTrue(w.disableCreateMutatingWebhookConfig, "the webhook registers nothing")
  assert.isFalse(w.manageCaBundleOnly, "and never patches the caBundle")
  const configuration = one(objects, "MutatingWebhookConfiguration", w.serviceName)
  assert.deepStrictEqual(configuration.metadata.annotations?.["cert-manager.io/inject-ca-from-secret"], `${namespace}/${w.secretName}`)
  const secret = one(objects, "Secret", w.secretName)
  assert.strictEqual(secret.metadata.annotations?.["cert-manager.io/allow-direct-injection"], "true")
  assert.isUndefined(secret["data"], "the certificates are init-certs' and the webhook's, never the manifest's")
  for (const role of [...byKind(objects, "Role"), ...byKind(objects, "ClusterRole")]) {
    for (const rule of role["rules"] as ReadonlyArray<Rule>) {
      assert.notInclude(rule.resources ?? [], "mutatingwebhookconfigurations", `${role.kind} ${role.metadata.name} grants nothing on registrations`)
    }
  }
}

/** A NetworkPolicy ingress rule, as the checks read it. */
interface IngressRule {
  readonly from?: ReadonlyArray<Record<string, unknown>>
  readonly ports?: ReadonlyArray<{ readonly protocol?: string; readonly port?: number | string }>
}

/**
 * checkNetworkPolicy (issue 10): one NetworkPolicy selects exactly the webhook's pods and admits, on the HTTPS
 * port, only `apiServerPeers`, and on the probe port only the monitoring namespace; no rule admits everyone (a
 * rule without `from`) or any other port; egress is not restricted (the webhook calls the API server).
 */
export const checkNetworkPolicy = (
  objects: ReadonlyArray<K8sObject>,
  config: WebhookConfigShape,
  apiServerPeers: ReadonlyArray<Record<string, unknown>>
): void => {
  const w = config.webhook
  const policy = one(objects, "NetworkPolicy", w.serviceName)
  const s = spec<{ podSelector: { matchLabels: Record<string, string> }; policyTypes: ReadonlyArray<string>; ingress: ReadonlyArray<IngressRule> }>(policy)
  const template = podTemplate(one(objects, "Deployment", w.serviceName))
  assert.isTrue(selects(s.podSelector.matchLabels, template.metadata?.labels ?? {}), "selects the webhook's pods")
  for (const job of byKind(objects, "Job")) {
    assert.isFalse(selects(s.podSelector.matchLabels, podTemplate(job).metadata?.labels ?? {}), `not ${job.metadata.name}'s pods`)
  }
  assert.deepStrictEqual(s.policyTypes, ["Ingress"])
  for (const rule of s.ingress) {
    assert.isAbove(rule.from?.length ?? 0, 0, "every rule names its sources (a rule without `from` admits everyone)")
    assert.lengthOf(rule.ports ?? [], 1, "every rule names its one port")
  }
  const forPort = (port: number) => s.ingress.filter((r) => r.ports?.[0]?.port === port && r.ports?.[0]?.protocol === "TCP")
  assert.deepStrictEqual(forPort(w.listenPort).map((r) => r.from), [apiServerPeers], "HTTPS: the API server only")
  assert.deepStrictEqual(forPort(w.probePort).map((r) => r.from), [[
    { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }
  ]], "probe port: the monitoring namespace only")
  assert.lengthOf(s.ingress, 2, "no other port")
}
