/**
 * PosixPath: lexical path rules shared by the Patcher and the managers. Flyte builds its paths with Go's
 * `filepath.Join`, which cleans them (`path.Clean`: no empty, `.` or inner `..` elements, no trailing `/`), and
 * the kubelet compares mount paths the same way, so two spellings of one folder (`/a/b/`, `/a//b`) are one path.
 */

/** cleanPath is Go's `path.Clean` (Pike, "Lexical File Names in Plan 9"): the shortest equivalent path. */
export const cleanPath = (path: string): string => {
  if (path === "") return "."
  const rooted = path.startsWith("/")
  const out: Array<string> = []
  for (const element of path.split("/")) {
    if (element === "" || element === ".") continue
    if (element === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop()
      else if (!rooted) out.push("..")
      continue
    }
    out.push(element)
  }
  const body = out.join("/")
  return rooted ? `/${body}` : body === "" ? "." : body
}

/** parentPath: the folder holding a clean absolute path; undefined for `/`. */
export const parentPath = (path: string): string | undefined => {
  if (path === "/") return undefined
  const slash = path.lastIndexOf("/")
  return slash <= 0 ? "/" : path.slice(0, slash)
}

/** isWithin: whether clean absolute `path` is `folder` or lies below it. */
export const isWithin = (path: string, folder: string): boolean =>
  path === folder || path.startsWith(folder === "/" ? "/" : `${folder}/`)
