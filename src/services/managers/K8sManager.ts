/**
 * K8s: reference a Kubernetes Secret named after the group (spec section 3, row K8s).
 * ENV_VAR: `valueFrom.secretKeyRef`; ANY/FILE: a secret volume per Secret, mounted at `<dir>/<group>`.
 * Values never pass through the webhook: the kubelet resolves them.
 */
import { createHash } from "node:crypto"
import { encodeString } from "../../domain/Base32.ts"
import {
  DefaultDirVar,
  EnvPrefixVar,
  EnvVarPrefix,
  FilePrefixVar,
  secretEnvName,
  secretFilePath,
  SecretsDir
} from "../../domain/FlyteNames.ts"
import { addEnv, addEnvFrom, addMount, addVolume } from "../../domain/PodEdit.ts"
import type { SecretRequest } from "../../domain/SecretRequest.ts"
import { injected, type ManagerDefinition, reject } from "./SecretManager.ts"

/** Kubernetes limits volume names to a 63-character DNS label (validation of `spec.volumes[].name`). */
const MaxVolumeName = 63

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
  return [
    addVolume({
      name,
      secret: {
        secretName: secret.group,
        items: [{ key: secret.key, path: secret.key.toLowerCase() }],
        optional: true
      }
    }),
    addMount({ name, readOnly: true, mountPath: `${SecretsDir}/${secret.group.toLowerCase()}` }),
    addEnv(DefaultDirVar, SecretsDir),
    addEnv(FilePrefixVar, ""),
    ...(secret.envVar === "" ? [] : [addEnv(secret.envVar, secretFilePath(secret.group, secret.key))])
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

export const K8sManager: ManagerDefinition = {
  type: "K8s",
  make: () => ({
    type: "K8s",
    inject: (secret) =>
      secret.group === "" || secret.key === ""
        ? reject("K8s", "needs both group (the Secret name) and key")
        : injected(secret.mountRequirement === "ENV_VAR" ? envEdits(secret) : fileEdits(secret))
  })
}
