/**
 * DocBlocks: the code in README.md and docs/*.md, read the way a user reads it: fenced blocks (```ts, ```sh,
 * ```console, ...) and inline code spans, each with its file and line, and the commands in them.
 *
 * Convention: a fenced block right after the line `<!-- docs-check: illustrative -->` is an illustration (a
 * fragment, output from a cluster) that the docs tests neither compile nor run. Use it sparingly: every other
 * ```ts block must type-check and every command shown is run or classified (DocCommands.ts).
 */
import * as fs from "node:fs"
import * as path from "node:path"

export const repoRoot = path.resolve(import.meta.dirname, "../..")

export const ILLUSTRATIVE = "<!-- docs-check: illustrative -->"

/** docFiles: README.md and every docs/*.md, as paths relative to the repository. */
export const docFiles = (): ReadonlyArray<string> => [
  "README.md",
  ...fs.readdirSync(path.join(repoRoot, "docs")).filter((f) => f.endsWith(".md")).sort().map((f) => `docs/${f}`)
]

export const readDoc = (file: string): string => fs.readFileSync(path.join(repoRoot, file), "utf8")

export interface Block {
  readonly file: string
  /** 1-based line of the opening fence. */
  readonly line: number
  readonly lang: string
  readonly text: string
  readonly illustrative: boolean
}

/** blocksOf: every fenced block of a Markdown file (indented fences too, their indentation removed). */
export const blocksOf = (file: string): ReadonlyArray<Block> => {
  const lines = readDoc(file).split("\n")
  const blocks: Array<Block> = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*$/.exec(lines[i] ?? "")
    if (open === null) continue
    const indent = open[1]?.length ?? 0
    const body: Array<string> = []
    let j = i + 1
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j] ?? ""); j++) body.push((lines[j] ?? "").slice(indent))
    let k = i - 1
    while (k >= 0 && (lines[k] ?? "").trim() === "") k--
    blocks.push({
      file,
      line: i + 1,
      lang: open[2] ?? "",
      text: body.join("\n"),
      illustrative: (lines[k] ?? "").trim() === ILLUSTRATIVE
    })
    i = j
  }
  return blocks
}

/** inlineCode: the inline code spans outside fenced blocks, with their lines. */
export const inlineCode = (file: string): ReadonlyArray<{ readonly file: string; readonly line: number; readonly text: string }> => {
  const out: Array<{ file: string; line: number; text: string }> = []
  let fenced = false
  readDoc(file).split("\n").forEach((line, index) => {
    if (/^\s*```/.test(line)) fenced = !fenced
    if (fenced) return
    for (const match of line.matchAll(/`([^`]+)`/g)) out.push({ file, line: index + 1, text: match[1] ?? "" })
  })
  return out
}

/** shellLines: a sh block's commands: `\` continuations joined, comments and blank lines dropped. */
export const shellLines = (text: string): ReadonlyArray<string> => {
  const joined = text.replace(/\\\n\s*/g, " ")
  return joined.split("\n").map(stripComment).map((l) => l.trim()).filter((l) => l !== "")
}

/** stripComment: a trailing `# ...` outside quotes. */
const stripComment = (line: string): string => {
  let quote: string | undefined
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quote !== undefined) {
      if (c === quote) quote = undefined
    } else if (c === "'" || c === '"') {
      quote = c
    } else if (c === "#" && (i === 0 || /\s/.test(line[i - 1] ?? ""))) {
      return line.slice(0, i)
    }
  }
  return line
}

export interface ConsoleStep {
  readonly command: string
  /** The output the doc shows after the command ("" when none). */
  readonly output: string
}

/** consoleSteps: a console block's `$ command` lines, each with the output shown under it. */
export const consoleSteps = (text: string): ReadonlyArray<ConsoleStep> => {
  const steps: Array<{ command: string; output: Array<string> }> = []
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? ""
    if (line.startsWith("$ ")) {
      let command = line.slice(2)
      while (command.endsWith("\\") && i + 1 < lines.length) command = `${command.slice(0, -1)} ${(lines[++i] ?? "").trim()}`
      steps.push({ command: stripComment(command).trim(), output: [] })
    } else {
      steps.at(-1)?.output.push(line)
    }
  }
  return steps.map((s) => ({ command: s.command, output: s.output.join("\n").trim() }))
}

/** shellWords: a command line split as a POSIX shell would (quotes, no expansion). */
export const shellWords = (line: string): ReadonlyArray<string> => {
  const words: Array<string> = []
  let current = ""
  let quote: string | undefined
  let started = false
  for (const c of line) {
    if (quote !== undefined) {
      if (c === quote) quote = undefined
      else current += c
    } else if (c === "'" || c === '"') {
      quote = c
      started = true
    } else if (/\s/.test(c)) {
      if (started) words.push(current)
      current = ""
      started = false
    } else {
      current += c
      started = true
    }
  }
  if (started) words.push(current)
  return words
}
