/**
 * Links and references in README.md and docs/*.md: every relative link reaches a file of the repository and,
 * with `#anchor`, a heading of it; the compatibility contract is cited as a link to docs/flyte-compat.md, never
 * as "the spec" or a bare file name that is not in the repository.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "vitest"
import { docFiles, readDoc, repoRoot } from "./DocBlocks.ts"

/** slug: GitHub's heading anchor: lower case, punctuation dropped (but `-` and `_`), spaces to `-`. */
const slug = (heading: string): string =>
  heading.trim().toLowerCase().replace(/`/g, "").replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-")

const anchorsOf = (file: string): ReadonlySet<string> => {
  let fenced = false
  const anchors = new Set<string>()
  for (const line of readDoc(file).split("\n")) {
    if (/^\s*```/.test(line)) fenced = !fenced
    const heading = fenced ? null : /^#{1,6}\s+(.*)$/.exec(line)
    if (heading !== null) anchors.add(slug(heading[1] ?? ""))
  }
  return anchors
}

/** proseOf: a doc without its fenced blocks (links and references in code are not links). */
const proseOf = (file: string): string =>
  readDoc(file).replace(/^\s*```[\s\S]*?^\s*```/gm, (block) => block.replace(/[^\n]/g, ""))

const links = docFiles().flatMap((file) =>
  [...proseOf(file).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => ({ file, target: m[1] ?? "" }))
    .filter((l) => !/^[a-z]+:/.test(l.target))
)

describe("links and references in the docs", () => {
  it("every relative link reaches a file, and its #anchor a heading there", () => {
    assert.isAbove(links.length, 10)
    const broken = links.filter(({ file, target }) => {
      const [file_, anchor] = target.split("#") as [string, string | undefined]
      const resolved = file_ === "" ? file : path.relative(repoRoot, path.resolve(repoRoot, path.dirname(file), file_))
      if (!fs.existsSync(path.join(repoRoot, resolved))) return true
      return anchor !== undefined && resolved.endsWith(".md") && !anchorsOf(resolved).has(anchor)
    }).map(({ file, target }) => `${file}: ${target}`)
    assert.deepStrictEqual(broken, [])
  })

  it("the compatibility contract is linked as docs/flyte-compat.md, never cited as \"the spec\"", () => {
    const stale = docFiles().flatMap((file) => {
      // Links are taken out of the whole text first: a link's text may wrap onto the next line.
      const prose = proseOf(file)
      const bare = prose.replace(/\[[^\]]*\]\([^)]*flyte-compat\.md[^)]*\)/g, (link) => link.replace(/[^\n]/g, " ")).split("\n")
      return prose.split("\n").flatMap((line, i) =>
        /\bspec section\b|\bthe spec\b|\bspec's\b/i.test(line) || /flyte-compat\.md/.test(bare[i] ?? "") ? [`${file}:${i + 1}: ${line.trim()}`] : []
      )
    })
    assert.deepStrictEqual(stale, [])
    assert.isTrue(links.some((l) => l.file === "README.md" && l.target.startsWith("docs/flyte-compat.md")), "README links the contract")
  })

  it("the contract's main sections exist (README and the e2e docs link them)", () => {
    const anchors = anchorsOf("docs/flyte-compat.md")
    for (const heading of ["resolution-order", "what-each-manager-does", "deliberate-differences"]) {
      assert.isTrue(anchors.has(heading), heading)
    }
  })
})
