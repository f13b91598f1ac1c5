/**
 * Vault: pod annotations for the Vault agent injector (vault-k8s), which renders each secret into a file
 * (spec section 3, row Vault). Precedence, later wins: per-secret < common < `vaultSecretManager.annotations`
 * < annotations already on the Pod (the Patcher never overwrites an existing annotation).
 */
import { createHash } from "node:crypto"
import { DefaultDirVar, FilePrefixVar, SecretsDir } from "../../domain/FlyteNames.ts"
import { addAnnotations, addEnv } from "../../domain/PodEdit.ts"
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

export const vaultAnnotations = (secret: SecretRequest, vault: VaultSettings): Record<string, string> => {
  const id = secretId(secret)
  const query = templateQuery(secret.groupVersion, vault.kvVersion)
  const perSecret: Record<string, string> = {
    [`${V}/agent-inject-secret-${id}`]: secret.group,
    // A key-less db secret is the whole credential: its file is the group itself (never `<group>/`, a folder).
    [`${V}/agent-inject-file-${id}`]: (secret.key === "" ? secret.group : `${secret.group}/${secret.key}`).toLowerCase(),
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

export const VaultManager: ManagerDefinition = {
  type: "Vault",
  make: (settings) => fileOnly({
    type: "Vault",
    inject: (secret) => {
      if (secret.group === "") return reject("Vault", "needs group (the Vault secret path)")
      if (secret.key === "" && secret.groupVersion !== "db") {
        return reject("Vault", "needs key (only group_version db secrets may omit it)")
      }
      return injected([
        addEnv(DefaultDirVar, SecretsDir),
        addEnv(FilePrefixVar, ""),
        addAnnotations(vaultAnnotations(secret, settings.vaultSecretManager))
      ])
    }
  })
}
