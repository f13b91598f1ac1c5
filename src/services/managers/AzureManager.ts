/**
 * Azure (Flyte 2): an init container logs in with workload identity and writes the Key Vault secret into an
 * in-memory volume (spec section 3, row Azure). group is the Key Vault secret URI, group_version its version.
 * The file is `<dir>/<last segment of the URI>[/<group_version>]` lower-cased and cleaned (SecretFile).
 */
import { SecretsDir } from "../../domain/FlyteNames.ts"
import { expectFile } from "../../domain/PodEdit.ts"
import { parentPath } from "../../domain/PosixPath.ts"
import { secretFile } from "../../domain/SecretFile.ts"
import { pullerEdits, shellSafe } from "./PullerEdits.ts"
import { fileOnly, injected, type ManagerDefinition, reject } from "./SecretManager.ts"

export const AzureVolume = "azure-secret-vol"

export const AzureManager: ManagerDefinition = {
  type: "Azure",
  make: (settings) => fileOnly({
    type: "Azure",
    inject: (secret) => {
      // Flyte 2 trims trailing slashes off the URI before taking its last segment and appending the version.
      const uri = secret.group.replace(/\/+$/, "")
      if (uri === "") return reject("Azure", "needs group (the Key Vault secret URI)")
      if (!shellSafe.test(secret.group) || !shellSafe.test(secret.groupVersion)) {
        return reject("Azure", "group and group_version may only hold letters, digits and ._:/@+=-")
      }
      const name = uri.split("/").pop() ?? uri
      const id = secret.groupVersion === "" ? uri : `${uri}/${secret.groupVersion}`
      const file = secretFile([name, secret.groupVersion])
      if (file._tag === "Refused") return reject("Azure", `the secret's name and group_version: ${file.reason}`)
      const path = file.path
      const dir = parentPath(path) ?? SecretsDir
      const puller = {
        image: settings.azureSecretManager.sidecarImage,
        command: [
          "sh",
          "-ec",
          'az login --service-principal -u "$AZURE_CLIENT_ID" -t "$AZURE_TENANT_ID" ' +
          '--federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")" --allow-no-subscriptions >/dev/null; ' +
          `mkdir -p ${dir}; az keyvault secret show --id "${id}" --query value -o tsv > ${path}; chmod +rX ${dir} ${path}`
        ],
        resources: settings.azureSecretManager.resources,
        volumeMounts: [{ name: AzureVolume, mountPath: SecretsDir }]
      }
      return injected(pullerEdits(AzureVolume, "azure-pull-secret-", puller, [
        expectFile({ file: path, mountPath: SecretsDir, volume: AzureVolume })
      ]))
    }
  })
}
