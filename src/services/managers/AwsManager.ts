/**
 * AWS: an init container (AWS's secrets sidecar image) pulls the secret into an in-memory volume
 * (spec section 3, row AWS). ENV_VAR cannot be served: the value never exists outside the Pod's volume.
 */
import { secretFilePath } from "../../domain/FlyteNames.ts"
import { addEnv } from "../../domain/PodEdit.ts"
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
      const puller = {
        image: settings.awsSecretManager.sidecarImage,
        resources: settings.awsSecretManager.resources,
        env: [
          { name: "SECRET_ARN", value: `${trimRight(secret.group, ":")}:${trimLeft(secret.key, ":")}` },
          { name: "SECRET_FILENAME", value: `/${secret.group.toLowerCase()}/${secret.key.toLowerCase()}` }
        ],
        volumeMounts: [{ name: AwsVolume, mountPath: "/tmp" }]
      }
      const alias = secret.envVar === "" ? [] : [addEnv(secret.envVar, secretFilePath(secret.group, secret.key))]
      return injected(pullerEdits(AwsVolume, "aws-pull-secret-", puller, alias))
    }
  })
}
