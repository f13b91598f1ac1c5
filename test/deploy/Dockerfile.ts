/**
 * Dockerfile: the repository's Dockerfile as a list of instructions (continuation lines joined, comments and
 * blank lines dropped, runs of spaces folded), for the tests that hold it and the built archive to one layout.
 * The Dockerfile here uses only the plain forms (no heredocs, no escape directive), which is all this reads.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { repoRoot } from "./Manifests.ts"

export interface Instruction {
  /** The instruction in upper case: FROM, RUN, COPY, ... */
  readonly op: string
  readonly args: string
}

export const dockerfileInstructions = (file = path.join(repoRoot, "Dockerfile")): ReadonlyArray<Instruction> =>
  fs.readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => !/^\s*#/.test(line))
    .join("\n")
    .replace(/\\\n/g, " ")
    .split("\n")
    .map((line) => line.trim().replace(/\s+/g, " "))
    .filter((line) => line !== "")
    .map((line) => {
      const space = line.indexOf(" ")
      return { op: line.slice(0, space).toUpperCase(), args: line.slice(space + 1) }
    })

/** lockedNodeVersion: the Node release package-lock.json pins for the `node` devDependency. */
export const lockedNodeVersion = (): string => {
  const lock = JSON.parse(fs.readFileSync(path.join(repoRoot, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version?: string }>
  }
  const version = lock.packages["node_modules/node"]?.version
  if (version === undefined) throw new Error("package-lock.json has no node_modules/node")
  return version
}
