/**
 * DoctorAccess: doctor's check 4. The webhook's ServiceAccount (`system:serviceaccount:<POD_NAMESPACE>:<
 * webhook.serviceName>`, as deploy/base and the chart name it) holds exactly the documented permissions
 * (deploy/base/rbac-*.yaml; docs/deploy.md "RBAC"): one SubjectAccessReview per verb it needs, each missing
 * one named with the rule to grant, and one per grant it must not need, each allowed one flagged.
 *
 * What it needs depends on the config: registration `full` applies its configuration (get, create, patch by
 * name), `caBundleOnly` patches it (get, patch), `off` touches none; certificates are renewed through the
 * Secret (get, update by name) and, with `webhook.certSource: secret`, created by the webhook (create).
 */
import { Effect } from "effect"
import type { KubeClientShape } from "../kube/KubeClient.ts"
import type { AccessQuestion } from "../kube/KubeTypes.ts"
import { registrationMode } from "../services/Registrar.ts"
import type { WebhookConfigShape } from "../WebhookConfig.ts"
import { check, type CheckResult, fail, type Finding, pass, unknown, warn } from "./DoctorReport.ts"

export const Title = "webhook's ServiceAccount has exactly the documented permissions"

export type Permission = Omit<AccessQuestion, "user" | "groups">

const Webhooks = { group: "admissionregistration.k8s.io", resource: "mutatingwebhookconfigurations" }
const Secrets = { group: "", resource: "secrets" }

/** serviceAccount: the webhook's user name and groups, as the API server authenticates its token. */
export const serviceAccount = (settings: WebhookConfigShape) => ({
  user: `system:serviceaccount:${settings.podNamespace}:${settings.webhook.serviceName}`,
  groups: ["system:serviceaccounts", `system:serviceaccounts:${settings.podNamespace}`, "system:authenticated"]
})

/** needed: every permission the webhook uses with this config. */
export const needed = (settings: WebhookConfigShape): ReadonlyArray<Permission> => {
  const { podNamespace: namespace, webhook } = settings
  const config = (verb: string) => ({ ...Webhooks, verb, name: webhook.serviceName })
  const secret = (verb: string) => ({ ...Secrets, verb, name: webhook.secretName, namespace })
  const mode = registrationMode(webhook)
  return [
    secret("get"),
    secret("update"),
    ...(webhook.certSource === "secret" ? [{ ...Secrets, verb: "create", namespace }] : []),
    ...(mode === "full" ? [config("get"), config("create"), config("patch")] : []),
    ...(mode === "caBundleOnly" ? [config("get"), config("patch")] : [])
  ]
}

/** unneeded: grants a least-privilege install never gives the webhook (each allowed one is flagged). */
export const unneeded = (settings: WebhookConfigShape): ReadonlyArray<Permission> => {
  const { podNamespace: namespace, webhook } = settings
  const mode = registrationMode(webhook)
  return [
    { ...Secrets, verb: "list", namespace },
    { ...Secrets, verb: "get", name: `${webhook.secretName}-doctor-probe`, namespace },
    { ...Secrets, verb: "get", name: webhook.secretName, namespace: "kube-system" },
    { ...Secrets, verb: "delete", name: webhook.secretName, namespace },
    ...(webhook.certSource === "secret" ? [] : [{ ...Secrets, verb: "create", namespace }]),
    { ...Webhooks, verb: "delete", name: webhook.serviceName },
    { ...Webhooks, verb: "update", name: webhook.serviceName },
    { ...Webhooks, verb: "patch", name: `${webhook.serviceName}-doctor-probe` },
    ...(mode === "off" ? [{ ...Webhooks, verb: "patch", name: webhook.serviceName }] : []),
    { group: "", resource: "pods", verb: "create", namespace }
  ]
}

/** describe: a permission as an RBAC rule reads. */
export const describe = (p: Permission): string => {
  const resource = p.group === "" ? p.resource : `${p.resource}.${p.group}`
  return `${p.verb} on ${resource}${p.name === undefined ? "" : ` "${p.name}"`}${p.namespace === undefined ? " (cluster-scoped)" : ` in namespace ${p.namespace}`}`
}

export interface Answered {
  readonly permission: Permission
  readonly allowed: boolean
}

/** accessFindings: check 4 over the answers for the needed and the unneeded permissions. */
export const accessFindings = (
  user: string,
  need: ReadonlyArray<Answered>,
  extra: ReadonlyArray<Answered>
): ReadonlyArray<Finding> => {
  const missing = need.filter((a) => !a.allowed)
  const granted = extra.filter((a) => a.allowed)
  return [
    ...missing.map((a) =>
      fail(
        `${user} lacks ${describe(a.permission)}`,
        `grant "${a.permission.verb}" as deploy/base/rbac-*.yaml (or the chart) does; the webhook retries and stays unready meanwhile`
      )
    ),
    ...(missing.length === 0 ? [pass(`${user} has all ${need.length} permissions it needs`)] : []),
    ...granted.map((a) =>
      warn(`${user} also has ${describe(a.permission)}, which it does not need`, "remove the grant (least privilege): the webhook's own manifests never give it")
    ),
    ...(granted.length === 0 ? [pass(`none of ${extra.length} unneeded grants probed is allowed`)] : [])
  ]
}

/** accessCheck: check 4, one SubjectAccessReview per permission. */
export const accessCheck = (kube: KubeClientShape, settings: WebhookConfigShape): Effect.Effect<CheckResult> => {
  const account = serviceAccount(settings)
  const ask = (permission: Permission) =>
    Effect.map(kube.reviewAccess({ ...account, ...permission }), (answer): Answered => ({ permission, allowed: answer.allowed }))
  return Effect.all([Effect.forEach(needed(settings), ask), Effect.forEach(unneeded(settings), ask)]).pipe(
    Effect.map(([need, extra]) => check(4, Title, accessFindings(account.user, need, extra))),
    Effect.catch((e) =>
      Effect.succeed(check(4, Title, [
        unknown(
          `cannot ask the API server about ${account.user}'s permissions: ${e._tag === "Forbidden" ? "forbidden" : e.message}`,
          "grant create on subjectaccessreviews.authorization.k8s.io (deploy/components/doctor)"
        )
      ]))
    )
  )
}
