/**
 * WebhookCli: the webhook's one-shot commands as the suite runs them: `init-certs` (as the init-certs Job does,
 * writing the files a deployment serves from) and `unregister` (as an uninstall does).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import * as YAML from "yaml"
import type { Identity } from "./Api.ts"
import { type ControlPlaneInfo, InstallNamespace } from "./ControlPlane.ts"
import { cli, describeRun } from "./Tools.ts"

export interface CertOptions {
  /** Identity init-certs runs as. Default: the init-certs ServiceAccount of the install namespace. */
  readonly identity?: Identity
  /** POD_NAMESPACE (where the Secret lives). Default: the install namespace. */
  readonly namespace?: string
  /** webhook.extraSANs. Default ["127.0.0.1"] (URL mode calls https://127.0.0.1:<port>). */
  readonly extraSANs?: ReadonlyArray<string>
}

/** prepareCerts runs `init-certs` (as the init-certs Job does) with webhook.localCert, writing into `certDir`. */
export const prepareCerts = async (ctx: ControlPlaneInfo, dir: string, certDir: string, options: CertOptions = {}): Promise<string> => {
  const config = path.join(dir, `init-certs-${path.basename(certDir)}.yaml`)
  fs.writeFileSync(config, YAML.stringify({ webhook: { certDir, localCert: true, extraSANs: options.extraSANs ?? ["127.0.0.1"] } }))
  const ran = await cli(["init-certs", "--config", config], {
    KUBECONFIG: (options.identity ?? ctx.initCerts).kubeconfig,
    POD_NAMESPACE: options.namespace ?? InstallNamespace
  })
  if (ran.code !== 0) throw new Error(describeRun("init-certs", ran))
  return ran.stdout
}

/** unregister runs `flyte-pod-webhook unregister` for `serviceName` as an admin; throws when it fails. */
export const unregister = async (ctx: ControlPlaneInfo, dir: string, serviceName: string) => {
  const config = path.join(dir, `unregister-${serviceName}.yaml`)
  fs.writeFileSync(config, YAML.stringify({ webhook: { serviceName } }))
  const ran = await cli(["unregister", "--config", config], { KUBECONFIG: ctx.admin.kubeconfig, POD_NAMESPACE: InstallNamespace })
  if (ran.code !== 0) throw new Error(describeRun(`unregister ${serviceName}`, ran))
  return ran
}
