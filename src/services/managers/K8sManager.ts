/**
 * K8s: reference a Kubernetes Secret named after the group (spec section 3, row K8s).
 * ENV_VAR: `valueFrom.secretKeyRef`; ANY/FILE: a secret volume per Secret, mounted at `<dir>/<group>`.
 * Values never pass through the webhook: the kubelet resolves them.
 *
 * Ours: a group that cannot name a Secret, or a key that cannot be one of its keys, is refused with the rule
 * (Flyte wrote it into `secretName` / `secretKeyRef` and the API server refused the Pod naming a volume or env var
 * the user never wrote; such a Secret cannot exist, so the secret could never arrive).
 */
import { createHash } from "node:crypto"
import { encodeString } from "../../domain/Base32.ts"
import { DefaultDirVar, EnvPrefixVar, EnvVarPrefix, FilePrefixVar, secretEnvName, SecretsDir } from "../../domain/FlyteNames.ts"
import { isSecretKey, isSecretName, MaxVolumeName, SecretKeyRule, SecretNameRule } from "../../domain/KubeNames.ts"
import { addEnv, addEnvFrom, addMount, addVolume, expectFile } from "../../domain/PodEdit.ts"
import type { SecretRequest } from "../../domain/SecretRequest.ts"
import { injected, type Injection, type ManagerDefinition, reject } from "./SecretManager.ts"

/**
 * volumeName is Flyte's B32(group + "_" + group_version); past 63 characters (a group over ~38 bytes) Flyte
 * produced an invalid Pod, so ours falls back to a stable hash-based name.
 */
export const volumeName = (group: string, groupVersion: string): string => {
  const flyte = encodeString(`${group}_${groupVersion}`)
  if (flyte.length <= MaxVolumeName) return flyte
  const digest = createHash("sha256").update(`${group}\u0000${groupVersion}`).digest("hex").slice(0, 40)
  return `fsec-${digest}`
}

const fileEdits = (secret: SecretRequest) => {
  const name = volumeName(secret.group, secret.groupVersion)
  // A Secret's name is lower case and its keys hold no "/": the file is simply <dir>/<group>/lower(key).
  const folder = `${SecretsDir}/${secret.group}`
  const file = `${folder}/${secret.key.toLowerCase()}`
  return [
    addVolume({
      name,
      secret: {
        secretName: secret.group,
        items: [{ key: secret.key, path: secret.key.toLowerCase() }],
        optional: true
      }
    }),
    addMount({ name, readOnly: true, mountPath: folder }),
    addEnv(DefaultDirVar, SecretsDir),
    addEnv(FilePrefixVar, ""),
    ...(secret.envVar === "" ? [] : [addEnv(secret.envVar, file)]),
    expectFile({ file, mountPath: folder, volume: name, key: secret.key })
  ]
}

const envEdits = (secret: SecretRequest) => {
  const valueFrom = { secretKeyRef: { name: secret.group, key: secret.key, optional: true } }
  return [
    addEnvFrom(secretEnvName(secret.group, secret.key), valueFrom),
    ...(secret.envVar === "" ? [] : [addEnvFrom(secret.envVar, valueFrom)]),
    addEnv(EnvPrefixVar, EnvVarPrefix)
  ]
}

const inject = (secret: SecretRequest): Injection => {
  if (secret.group === "" || secret.key === "") return reject("K8s", "needs both group (the Secret name) and key")
  if (!isSecretName(secret.group)) {
    return reject("K8s", `group ${JSON.stringify(secret.group)} cannot name a Kubernetes Secret (${SecretNameRule})`)
  }
  if (!isSecretKey(secret.key)) {
    return reject("K8s", `key ${JSON.stringify(secret.key)} cannot name a key of a Kubernetes Secret (${SecretKeyRule})`)
  }
  return injected(secret.mountRequirement === "ENV_VAR" ? envEdits(secret) : fileEdits(secret))
}

export const K8sManager: ManagerDefinition = {
  type: "K8s",
  make: () => ({ type: "K8s", inject })
}
