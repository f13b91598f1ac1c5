/**
 * AWS: an init container (AWS's secrets sidecar image) pulls the secret into an in-memory volume
 * (spec section 3, row AWS). ENV_VAR cannot be served: the value never exists outside the Pod's volume.
 * The file is `/<group>/<key>` lower-cased and cleaned as Go's `filepath.Join` does (SecretFile).
 */
import { SecretsDir } from "../../domain/FlyteNames.ts"
import { addEnv, expectFile } from "../../domain/PodEdit.ts"
import { secretFile } from "../../domain/SecretFile.ts"
import { pullerEdits } from "./PullerEdits.ts"
import { fileOnly, injected, type ManagerDefinition, reject } from "./SecretManager.ts"

export const AwsVolume = "aws-secret-vol"

const trimRight = (s: string, c: string) => s.replace(new RegExp(`[${c}]+$`), "")
const trimLeft = (s: string, c: string) => s.replace(new RegExp(`^[${c}]+`), "")

export const AwsManager: ManagerDefinition = {
  type: "AWS",
  make: (settings) => fileOnly({
    type: "AWS",
    inject: (secret) => {
      if (secret.group === "" || secret.key === "") {
        return reject("AWS", "needs both group (the secret ARN) and key")
      }
      const file = secretFile([secret.group, secret.key])
      if (file._tag === "Refused") return reject("AWS", `group and key: ${file.reason}`)
      const puller = {
        image: settings.awsSecretManager.sidecarImage,
        resources: settings.awsSecretManager.resources,
        env: [
          { name: "SECRET_ARN", value: `${trimRight(secret.group, ":")}:${trimLeft(secret.key, ":")}` },
          { name: "SECRET_FILENAME", value: file.path.slice(SecretsDir.length) }
        ],
        volumeMounts: [{ name: AwsVolume, mountPath: "/tmp" }]
      }
      const alias = secret.envVar === "" ? [] : [addEnv(secret.envVar, file.path)]
      return injected(pullerEdits(AwsVolume, "aws-pull-secret-", puller, [
        ...alias,
        expectFile({ file: file.path, mountPath: SecretsDir, volume: AwsVolume })
      ]))
    }
  })
}
