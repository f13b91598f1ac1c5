/**
 * Vault: pod annotations for the Vault agent injector (vault-k8s), which renders each secret into a file
 * (spec section 3, row Vault). Precedence, later wins: per-secret < common < `vaultSecretManager.annotations`
 * < annotations already on the Pod (the Patcher never overwrites an existing annotation).
 */
import { createHash } from "node:crypto"
import { DefaultDirVar, FilePrefixVar, SecretsDir } from "../../domain/FlyteNames.ts"
import { addAnnotations, addEnv, expectFile } from "../../domain/PodEdit.ts"
import { relativeToSecretsDir, secretFile } from "../../domain/SecretFile.ts"
import type { SecretRequest } from "../../domain/SecretRequest.ts"
import type { VaultSettings } from "../../WebhookConfig.ts"
import { fileOnly, injected, type ManagerDefinition, reject } from "./SecretManager.ts"

const V = "vault.hashicorp.com"

/**
 * secretId names a secret's annotations. Flyte used a fresh random UUID per call, so every call (and every
 * reinvocation) produced a different patch; ours is a UUID-shaped digest of the secret, stable across calls.
 */
export const secretId = (secret: SecretRequest): string => {
  const h = createHash("sha256").update(`${secret.group}\u0000${secret.groupVersion}\u0000${secret.key}`).digest("hex")
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

/** templateQuery picks the consul-template path: kv1 `.Data`, kv2 `.Data.data`, db none, else the legacy kvVersion. */
export const templateQuery = (groupVersion: string, kvVersion: VaultSettings["kvVersion"]): string | undefined => {
  switch (groupVersion) {
    case "kv1":
      return ".Data"
    case "kv2":
      return ".Data.data"
    case "db":
      return undefined
    default:
      return kvVersion === "1" ? ".Data" : ".Data.data"
  }
}

/**
 * vaultAnnotations: the agent injector's annotations; `file` is where the agent writes the secret, relative to the
 * secrets folder (vaultFile).
 */
export const vaultAnnotations = (secret: SecretRequest, vault: VaultSettings, file: string): Record<string, string> => {
  const id = secretId(secret)
  const query = templateQuery(secret.groupVersion, vault.kvVersion)
  const perSecret: Record<string, string> = {
    [`${V}/agent-inject-secret-${id}`]: secret.group,
    [`${V}/agent-inject-file-${id}`]: file,
    ...(query === undefined ? {} : {
      [`${V}/agent-inject-template-${id}`]: `{{- with secret "${secret.group}" -}}{{ ${query}.${secret.key} }}{{- end -}}`
    })
  }
  const common = {
    [`${V}/agent-inject`]: "true",
    [`${V}/secret-volume-path`]: SecretsDir,
    [`${V}/role`]: vault.role,
    [`${V}/agent-pre-populate-only`]: "true"
  }
  return { ...perSecret, ...common, ...vault.annotations }
}

/**
 * vaultFile: `<group>/<key>` lower-cased (flytekit looks for lower-cased names) and cleaned as Go's `filepath.Join`
 * does (SecretFile); a key-less db secret is the whole credential, in the file named after the group.
 */
export const vaultFile = (secret: SecretRequest) => secretFile(secret.key === "" ? [secret.group] : [secret.group, secret.key])

export const VaultManager: ManagerDefinition = {
  type: "Vault",
  make: (settings) => fileOnly({
    type: "Vault",
    inject: (secret) => {
      if (secret.group === "") return reject("Vault", "needs group (the Vault secret path)")
      if (secret.key === "" && secret.groupVersion !== "db") {
        return reject("Vault", "needs key (only group_version db secrets may omit it)")
      }
      const file = vaultFile(secret)
      if (file._tag === "Refused") return reject("Vault", `group and key: ${file.reason}`)
      return injected([
        addEnv(DefaultDirVar, SecretsDir),
        addEnv(FilePrefixVar, ""),
        addAnnotations(vaultAnnotations(secret, settings.vaultSecretManager, relativeToSecretsDir(file.path))),
        // The agent, not the Pod spec, writes the file: no mount of the Pod may hide it.
        expectFile({ file: file.path, mountPath: SecretsDir })
      ])
    }
  })
}
