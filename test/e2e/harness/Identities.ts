/**
 * Identities: kubeconfigs for the suite's users. Each user is a client certificate signed by the control plane's
 * client CA (CN = user name, O = groups). A ServiceAccount-like identity has the user name
 * `system:serviceaccount:<ns>:<name>`, which RBAC ServiceAccount subjects match, however it authenticated.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { Identity } from "./Api.ts"
import type { ControlPlaneInfo } from "./ControlPlane.ts"
import { issue } from "./Pki.ts"

/** kubeconfigText: one cluster, one user with embedded client certificate and key. */
export const kubeconfigText = (server: string, caPem: string, user: string, certPem: string, keyPem: string) => {
  const b64 = (text: string) => Buffer.from(text).toString("base64")
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: e2e",
    "  cluster:",
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(caPem)}`,
    "users:",
    `- name: ${JSON.stringify(user)}`,
    "  user:",
    `    client-certificate-data: ${b64(certPem)}`,
    `    client-key-data: ${b64(keyPem)}`,
    "contexts:",
    "- name: e2e",
    `  context: {cluster: e2e, user: ${JSON.stringify(user)}}`,
    "current-context: e2e",
    ""
  ].join("\n")
}

/** serviceAccountIdentity: a client certificate and kubeconfig for `system:serviceaccount:<namespace>:<name>`. */
export const serviceAccountIdentity = (info: ControlPlaneInfo, namespace: string, name: string, dir: string): Identity => {
  const ca = { certPem: fs.readFileSync(info.caFile, "utf8"), keyPem: fs.readFileSync(info.caKeyFile, "utf8") }
  const user = `system:serviceaccount:${namespace}:${name}`
  const leaf = issue(ca, { commonName: user, organizations: ["system:serviceaccounts", `system:serviceaccounts:${namespace}`] })
  const base = path.join(dir, `${namespace}.${name}`)
  fs.writeFileSync(`${base}.crt`, leaf.certPem, { mode: 0o600 })
  fs.writeFileSync(`${base}.key`, leaf.keyPem, { mode: 0o600 })
  fs.writeFileSync(`${base}.kubeconfig`, kubeconfigText(info.server, ca.certPem, user, leaf.certPem, leaf.keyPem), { mode: 0o600 })
  return { user, kubeconfig: `${base}.kubeconfig`, certFile: `${base}.crt`, keyFile: `${base}.key` }
}
