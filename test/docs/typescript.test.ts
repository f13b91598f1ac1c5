/**
 * Every ```ts block in README.md and docs/*.md type-checks against the real sources (the repository's
 * tsconfig, strict). A block whose first line is a comment naming a file (`// src/services/managers/X.ts`) is
 * compiled as that file, so its relative imports resolve as they would in the repository (tsconfig `rootDirs`
 * overlays the scratch folder on the repository); other blocks are compiled as files at the repository root.
 * Blocks marked illustrative (DocBlocks.ts) are skipped.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import { blocksOf, docFiles, repoRoot } from "./DocBlocks.ts"

const blocks = docFiles().flatMap(blocksOf).filter((b) => (b.lang === "ts" || b.lang === "typescript") && !b.illustrative)

// Inside the repository (git-ignored), so that node_modules resolve as they do for the sources.
const scratch = fs.mkdtempSync(path.join(repoRoot, ".local", "docs-typecheck-"))
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))

/** fileFor: where a block is compiled: the path its first-line comment names, else a file at the root. */
const fileFor = (block: (typeof blocks)[number], index: number): string => {
  const named = /^\/\/\s*((?:src|test|bench)\/[\w/.-]+\.ts)\s*$/.exec(block.text.split("\n")[0] ?? "")?.[1]
  return path.join(scratch, named ?? `doc-${index}.ts`)
}

describe("TypeScript in the docs", () => {
  it("there is TypeScript to check (README's Adding a secret manager)", () => {
    assert.isAtLeast(blocks.length, 1)
  })

  it("every block type-checks with the repository's tsconfig", () => {
    const files = blocks.map((block, index) => {
      const file = fileFor(block, index)
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, block.text)
      return { file, where: `${block.file}:${block.line}` }
    })
    fs.writeFileSync(path.join(scratch, "tsconfig.json"), JSON.stringify({
      extends: path.join(repoRoot, "tsconfig.json"),
      compilerOptions: { rootDirs: [repoRoot, scratch], noEmit: true },
      include: files.map((f) => f.file)
    }))
    try {
      execFileSync(path.join(repoRoot, "node_modules/.bin/tsc"), ["--noEmit", "-p", path.join(scratch, "tsconfig.json")], {
        cwd: repoRoot,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"]
      })
    } catch (cause) {
      const output = String((cause as { stdout?: string }).stdout ?? cause)
      const located = files.reduce((text, f) => text.replaceAll(path.relative(repoRoot, f.file), f.where), output)
      assert.fail(`a TypeScript block in the docs does not compile:\n${located}`)
    }
  })
})
