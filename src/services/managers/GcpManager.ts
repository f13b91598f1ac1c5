/**
 * GCP: an init container runs `gcloud secrets versions access` into an in-memory volume
 * (spec section 3, row GCP). Needs group (the secret) and group_version (its version). The folder and file are
 * `<dir>/<group>[/<group_version>]` lower-cased and cleaned as Go's `filepath.Join` does (SecretFile).
 */
import { SecretsDir } from "../../domain/FlyteNames.ts"
import { expectFile } from "../../domain/PodEdit.ts"
import { cleanPath } from "../../domain/PosixPath.ts"
import { secretFile } from "../../domain/SecretFile.ts"
import { pullerEdits, shellSafe } from "./PullerEdits.ts"
import { fileOnly, injected, type ManagerDefinition, reject } from "./SecretManager.ts"

export const GcpVolume = "gcp-secret-vol"

export const GcpManager: ManagerDefinition = {
  type: "GCP",
  make: (settings) => fileOnly({
    type: "GCP",
    inject: (secret) => {
      if (secret.group === "" || secret.groupVersion === "") {
        return reject("GCP", "needs both group (the secret) and group_version (its version)")
      }
      if (!shellSafe.test(secret.group) || !shellSafe.test(secret.groupVersion)) {
        return reject("GCP", "group and group_version may only hold letters, digits and ._:/@+=-")
      }
      const file = secretFile([secret.group, secret.groupVersion])
      if (file._tag === "Refused") return reject("GCP", `group and group_version: ${file.reason}`)
      const dir = cleanPath(`${SecretsDir}/${secret.group}`).toLowerCase()
      const path = file.path
      const g = secret.group
      const gv = secret.groupVersion
      const puller = {
        image: settings.gcpSecretManager.sidecarImage,
        command: [
          "sh",
          "-ec",
          `gcloud secrets versions access ${g}/versions/${gv} --out-file=${path} || ` +
          `gcloud secrets versions access ${gv} --secret=${g} --out-file=${path}; chmod +rX ${dir} ${path}`
        ],
        resources: settings.gcpSecretManager.resources,
        volumeMounts: [{ name: GcpVolume, mountPath: SecretsDir }]
      }
      return injected(pullerEdits(GcpVolume, "gcp-pull-secret-", puller, [
        expectFile({ file: path, mountPath: SecretsDir, volume: GcpVolume })
      ]))
    }
  })
}
