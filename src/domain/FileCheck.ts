/**
 * FileCheck: whether a container of the planned Pod sees a secret file where flytekit reads it (an ExpectFile edit).
 *
 * The kubelet shows a container the deepest mount above a path, so the file is there exactly when the deepest mount
 * at or above it is our folder (the ExpectFile's `mountPath`) from a volume that holds it: the volume the plan mounts
 * there, or a Pod's volume of the same Secret that maps the key to the file's name. Anything else is a reason the
 * secret would silently be missing (a user's volume at the folder, a mount below it that hides the file, a sub-path
 * mount, a volume projecting every key under a name flytekit does not read), reported against the secret.
 */
import { finalItems, itemsAt, type MountAt, mountsOf, secretNameOf } from "./PodState.ts"
import type { ContainerState, VolumeState } from "./PodState.ts"
import { cleanPath, isWithin, parentPath } from "./PosixPath.ts"
import { resolvedName, type VolumeSet } from "./VolumeNames.ts"

/** FileExpectation: an ExpectFile edit, paths clean. */
export interface FileExpectation {
  readonly file: string
  readonly mountPath: string
  readonly volume?: string
  readonly key?: string
}

const q = JSON.stringify

/** deepestMount: the mount a container sees `file` through, with its path. */
const deepestMount = (c: ContainerState, file: string): { readonly path: string; readonly mount: MountAt } | undefined => {
  const mounts = mountsOf(c)
  for (let path: string | undefined = file; path !== undefined; path = parentPath(path)) {
    const mount = mounts.get(path)
    if (mount !== undefined) return { path, mount }
  }
  return undefined
}

const itemProblem = (volume: VolumeState, name: string, key: string, folder: string, file: string): string | undefined => {
  const relative = file.slice(folder.length + 1)
  const items = finalItems(volume)
  if (items === undefined) {
    return key === relative ? undefined :
      `volume ${q(name)} at ${folder} projects every key of Secret ${q(secretNameOf(volume.original))} under its own ` +
        `name, so key ${q(key)} is not at ${file}`
  }
  const there = itemsAt(items, relative)
  if (there.length === 0) return `volume ${q(name)} at ${folder} has no item for key ${q(key)}`
  const other = there.find((item) => item["key"] !== key)
  return other === undefined ? undefined :
    `volume ${q(name)} at ${folder} puts key ${q(other["key"])} at ${file}, where key ${q(key)} must be`
}

/** fileProblem: why container `c` would not see the file, or undefined when it does. */
export const fileProblem = (volumes: VolumeSet, c: ContainerState, expected: FileExpectation): string | undefined => {
  const file = cleanPath(expected.file)
  const folder = cleanPath(expected.mountPath)
  const seen = deepestMount(c, file)
  const container = q(c.original["name"] ?? "")
  const hides = (at: { readonly path: string; readonly mount: MountAt }) =>
    `container ${container} mounts volume ${q(at.mount.name)} at ${at.path}, which hides ${file}`
  if (expected.volume === undefined) {
    // Written by something outside the Pod spec (the Vault agent mounts its own volume at the folder).
    return seen !== undefined && seen.path !== folder && isWithin(seen.path, folder) ? hides(seen) : undefined
  }
  const planned = resolvedName(volumes, expected.volume)
  if (seen === undefined || !isWithin(seen.path, folder)) {
    return `container ${container} does not mount volume ${q(planned)} at ${folder}`
  }
  if (seen.path !== folder) return hides(seen)
  const { mount } = seen
  const taken = `container ${container} already mounts volume ${q(mount.name)} at ${folder}, where volume ${q(planned)} must go`
  if (mount.subPath) return `${taken} (it mounts a sub-path of it)`
  if (expected.key === undefined) return mount.name === planned ? undefined : taken
  const present = volumes.byName.get(mount.name)
  const ours = volumes.byName.get(planned)
  if (present === undefined || ours === undefined) return taken
  const secretName = secretNameOf(ours.original)
  if (mount.name !== planned && (secretName === undefined || secretNameOf(present.original) !== secretName)) return taken
  return itemProblem(present, mount.name, expected.key, folder, file)
}
