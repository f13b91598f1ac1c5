/**
 * SecretFile: the file a secret becomes under the secrets folder when its path is built from fields the user wrote
 * (group, group_version, key). Flyte's webhook joins them with Go's `filepath.Join`, which cleans the result
 * (`team/db/` + `password` is `team/db/password`); flytekit joins the same fields with Python's `os.path.join`,
 * which does not, and leaves the rest to the kernel. The two name the same file except when
 *   - a part starts with `/`: `os.path.join` drops everything before it, so flytekit reads outside the folder;
 *   - a part holds a `..` element: the kernel resolves `a/../b` only if `a` exists, which it never does here,
 *     while the cleaned path skips it;
 *   - the last part names a folder (`key/`, `key/.`): a file is never found there.
 * Those are refused with the reason, so that a secret is never written where flytekit does not look.
 */
import { SecretsDir } from "./FlyteNames.ts"
import { cleanPath } from "./PosixPath.ts"

/** SecretFile: the lower-cased, cleaned absolute path, or why there is none. */
export type SecretFile =
  | { readonly _tag: "File"; readonly path: string }
  | { readonly _tag: "Refused"; readonly reason: string }

/** secretFile joins the non-empty parts under SecretsDir, as flytekit reads them. */
export const secretFile = (parts: ReadonlyArray<string>): SecretFile => {
  const given = parts.filter((part) => part !== "")
  const joined = given.join("/")
  const shown = JSON.stringify(joined)
  if (given.some((part) => part.startsWith("/"))) {
    return { _tag: "Refused", reason: `the path ${shown} has a part starting with "/", so flytekit would look outside ${SecretsDir}` }
  }
  const elements = joined.split("/")
  if (elements.includes("..")) {
    return { _tag: "Refused", reason: `the path ${shown} has a ".." element, so flytekit would look for another file` }
  }
  const last = elements[elements.length - 1]
  if (last === "" || last === ".") {
    return { _tag: "Refused", reason: `the path ${shown} names a folder, not a file` }
  }
  return { _tag: "File", path: cleanPath(`${SecretsDir}/${joined}`).toLowerCase() }
}

/** relativeToSecretsDir: a path from secretFile without the folder (`db-creds/password`). */
export const relativeToSecretsDir = (path: string): string => path.slice(SecretsDir.length + 1)
