/**
 * SecretRequest: one secret a Pod asks for, the model of `flyteidl.core.Secret`.
 *
 * Field names follow the protobuf message (spec section 1); `mountRequirement` keeps Flyte's enum names.
 * A request never carries a secret value: only where to find it.
 */

/** How the secret must reach the container: `ANY` lets the manager choose (most mount a file). */
export type MountRequirement = "ANY" | "ENV_VAR" | "FILE"

/** MountRequirement values in protobuf enum order (`ANY`=0, `ENV_VAR`=1, `FILE`=2). */
export const MountRequirements: ReadonlyArray<MountRequirement> = ["ANY", "ENV_VAR", "FILE"]

/** SecretRequest is the decoded content of one `flyte.secrets/s<N>` annotation. Empty string means unset. */
export interface SecretRequest {
  readonly group: string
  readonly groupVersion: string
  readonly key: string
  readonly mountRequirement: MountRequirement
  readonly envVar: string
}

/** makeSecretRequest fills the unset fields with their protobuf defaults. */
export const makeSecretRequest = (fields: Partial<SecretRequest>): SecretRequest => ({
  group: fields.group ?? "",
  groupVersion: fields.groupVersion ?? "",
  key: fields.key ?? "",
  mountRequirement: fields.mountRequirement ?? "ANY",
  envVar: fields.envVar ?? ""
})

/** RequestedSecret ties a request to the annotation it came from, for error messages and audit. */
export interface RequestedSecret {
  readonly annotation: string
  readonly secret: SecretRequest
}

/** secretLabel names a secret for humans and audit logs: `group/key` (never a value). */
export const secretLabel = (secret: SecretRequest): string => {
  const group = secret.groupVersion === "" ? secret.group : `${secret.group}@${secret.groupVersion}`
  return secret.key === "" ? group : `${group}/${secret.key}`
}
