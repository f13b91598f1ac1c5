/**
 * Install: puts the webhook's identities in place the way deploy/base does, so the webhook and init-certs run
 * under exactly the RBAC our manifests grant: deploy/base rendered for a namespace (`kubectl kustomize` of a
 * throwaway overlay, as deploy/render.sh does), keeping only its ServiceAccounts, Roles, RoleBindings,
 * ClusterRoles and ClusterRoleBindings (there is no kubelet to run its Job or Deployment), applied
 * server-side with the admin identity.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as YAML from "yaml"
import type { ControlPlaneInfo } from "./ControlPlane.ts"
import { describeRun, kubectl, RepoRoot } from "./Tools.ts"

const NamespacedKinds = new Set(["ServiceAccount", "Role", "RoleBinding"])
const ClusterKinds = new Set(["ClusterRole", "ClusterRoleBinding"])

type Manifest = Record<string, unknown>

const nameOf = (object: Manifest) => `${String(object["kind"])}/${String((object["metadata"] as Manifest)["name"])}`

/** renderBase: deploy/base rendered into `namespace`, one object per entry. */
export const renderBase = async (info: ControlPlaneInfo, namespace: string, workDir: string): Promise<ReadonlyArray<Manifest>> => {
  const overlay = path.join(workDir, `kustomize-${namespace}`)
  fs.mkdirSync(overlay, { recursive: true })
  fs.writeFileSync(
    path.join(overlay, "kustomization.yaml"),
    YAML.stringify({
      apiVersion: "kustomize.config.k8s.io/v1beta1",
      kind: "Kustomization",
      namespace,
      resources: [path.relative(overlay, path.join(RepoRoot, "deploy", "base"))]
    })
  )
  const rendered = await kubectl(info.binDir, info.admin.kubeconfig, ["kustomize", overlay])
  if (rendered.code !== 0) throw new Error(describeRun("kubectl kustomize deploy/base", rendered))
  return YAML.parseAllDocuments(rendered.stdout)
    .map((doc) => doc.toJS() as Manifest | null)
    .filter((object): object is Manifest => object !== null)
}

/**
 * installRbac creates `namespace` (if needed) and applies deploy/base's RBAC for it. `clusterScoped` also
 * applies the ClusterRole and ClusterRoleBinding (their subject is the webhook's ServiceAccount in this
 * namespace, so only one namespace of a cluster can hold them: the install namespace).
 */
export const installRbac = async (
  info: ControlPlaneInfo,
  namespace: string,
  options: { readonly clusterScoped: boolean }
): Promise<ReadonlyArray<string>> => {
  const admin = info.admin.kubeconfig
  const created = await kubectl(info.binDir, admin, ["create", "namespace", namespace])
  if (created.code !== 0 && !/AlreadyExists/.test(created.stderr)) throw new Error(describeRun("kubectl create namespace", created))
  const objects = (await renderBase(info, namespace, info.dir)).filter((object) =>
    NamespacedKinds.has(String(object["kind"])) || (options.clusterScoped && ClusterKinds.has(String(object["kind"])))
  )
  const applied = await kubectl(info.binDir, admin, ["apply", "--server-side", "-f", "-"], {
    input: objects.map((object) => YAML.stringify(object)).join("---\n")
  })
  if (applied.code !== 0) throw new Error(describeRun("kubectl apply (deploy/base RBAC)", applied))
  return objects.map(nameOf)
}
