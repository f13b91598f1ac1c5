/**
 * PullerEdits: the edits shared by managers that fetch a secret with an init container into an in-memory
 * volume mounted at the secrets folder (AWS, GCP, Azure): the volume, the puller, a read-only mount of the
 * folder everywhere, and the env vars flytekit reads.
 */
import { DefaultDirVar, FilePrefixVar, SecretsDir } from "../../domain/FlyteNames.ts"
import { addEnv, addInitContainer, addMount, addVolume, type JsonObject, type PodEdit } from "../../domain/PodEdit.ts"

export const pullerEdits = (
  volume: string,
  namePrefix: string,
  puller: JsonObject,
  extra: ReadonlyArray<PodEdit> = []
): ReadonlyArray<PodEdit> => [
  addVolume({ name: volume, emptyDir: { medium: "Memory" } }),
  addInitContainer(namePrefix, puller),
  addMount({ name: volume, readOnly: true, mountPath: SecretsDir }),
  addEnv(DefaultDirVar, SecretsDir),
  addEnv(FilePrefixVar, ""),
  ...extra
]

/**
 * Characters allowed in values interpolated into a puller's shell command. Flyte pasted them unquoted into
 * `sh -ec`, so a space or `;` in a group broke (or rewrote) the command; ours refuses them with a clear reason.
 */
export const shellSafe = /^[A-Za-z0-9._:/@+=-]*$/
