/**
 * Package: where this package lives and its version, so that commands find their own files (the embedded
 * config, the example review) wherever they are started from, not only from the repository root.
 */
import * as fs from "node:fs"
import * as path from "node:path"

/** packageRoot: the folder holding package.json (src/cli/ is two levels below it). */
export const packageRoot = path.resolve(import.meta.dirname, "../..")

/** fromPackage: a path inside the package, absolute. */
export const fromPackage = (relative: string): string => path.resolve(packageRoot, relative)

/** packageVersion: package.json's version (what `--version` prints). */
export const packageVersion: string = (() => {
  const manifest = JSON.parse(fs.readFileSync(fromPackage("package.json"), "utf8")) as { readonly version?: unknown }
  return typeof manifest.version === "string" ? manifest.version : "0.0.0"
})()

/** forDisplay: a path as a user should type it from the current folder (relative when inside it). */
export const forDisplay = (file: string): string => {
  const relative = path.relative(process.cwd(), file)
  return relative === "" || relative.startsWith("..") || path.isAbsolute(relative) ? file : relative
}
