/**
 * Every command README.md and docs/*.md show: this CLI's offline commands run for real, from the repository
 * root, with their exit code and, where the doc shows output, that output (JSON compared as JSON; elsewhere
 * whitespace-insensitive, `...` matching anything); its other commands must exist and take the flags shown;
 * other tools' commands are classified in DocCommands.ts. Blocks marked illustrative (DocBlocks.ts) are skipped.
 */
import { execFileSync } from "node:child_process"
import { assert, describe, it } from "vitest"
import { runCli } from "../cli/support.ts"
import { helm } from "../deploy/Manifests.ts"
import { blocksOf, consoleSteps, docFiles, inlineCode, repoRoot, shellLines } from "./DocBlocks.ts"
import { isCliCommand, type Plan, planFor } from "./DocCommands.ts"

interface Shown {
  readonly where: string
  readonly command: string
  /** The output shown under the command, and the exit code shown by a following `echo $?`. */
  readonly output?: string
  readonly exitCode?: number
}

/** shown: every command line of every doc (fenced sh/console blocks, and inline spans of this CLI). */
const shown: ReadonlyArray<Shown> = docFiles().flatMap((file) => {
  const fenced = blocksOf(file).filter((b) => !b.illustrative).flatMap((block): ReadonlyArray<Shown> => {
    const where = `${file}:${block.line}`
    if (block.lang === "sh" || block.lang === "bash") return shellLines(block.text).map((command) => ({ where, command }))
    if (block.lang !== "console") return []
    const steps = consoleSteps(block.text)
    return steps.flatMap((step, i): ReadonlyArray<Shown> => {
      if (step.command === "echo $?") return []
      const next = steps[i + 1]
      const exitCode = next?.command === "echo $?" ? Number(next.output) : undefined
      return [{ where, command: step.command, output: step.output, ...(exitCode === undefined ? {} : { exitCode }) }]
    })
  })
  const inline = inlineCode(file).filter((span) => isCliCommand(span.text)).map((span) => ({ where: `${file}:${span.line}`, command: span.text }))
  return [...fenced, ...inline]
})

const planned = shown.map((s) => ({ ...s, plan: planFor(s.command) }))

/** matches: the doc's output against the real one: as JSON when both parse, else with whitespace and `...` loose. */
const matches = (shownOutput: string, actual: string): boolean => {
  try {
    return JSON.stringify(JSON.parse(shownOutput)) === JSON.stringify(JSON.parse(actual))
  } catch {
    const pattern = shownOutput.split("...").map((part) => part.replace(/\s+/g, "").replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")
    return new RegExp(`^${pattern}$`, "s").test(actual.replace(/\s+/g, ""))
  }
}

describe("the commands the docs show", () => {
  it("are all classified: run, checked, or listed with the reason they are not run", () => {
    assert.isAbove(shown.length, 20)
    const unclassified = planned.filter((p) => p.plan === undefined).map((p) => `${p.where}: ${p.command}`)
    assert.deepStrictEqual(unclassified, [], "classify these in test/docs/DocCommands.ts")
  })

  const byKind = <K extends Plan["kind"]>(kind: K) =>
    planned.flatMap((p) => (p.plan?.kind === kind ? [{ ...p, plan: p.plan as Extract<Plan, { kind: K }> }] : []))

  it.concurrent.each(byKind("run").map((p) => [`${p.where}: ${p.command}`, p] as const))("%s", async (_name, p) => {
    const r = await runCli(p.plan.args, { env: p.plan.env, cwd: repoRoot })
    assert.strictEqual(r.code, p.exitCode ?? 0, r.stderr)
    if (p.output !== undefined && p.output !== "") {
      assert.isTrue(matches(p.output, r.stdout), `the output ${p.where} shows:\n${p.output}\nthe command printed:\n${r.stdout}`)
    }
  })

  it.concurrent.each(byKind("flags").map((p) => [`${p.where}: ${p.command}`, p] as const))("%s (exists, takes these flags)", async (_name, p) => {
    const r = await runCli([p.plan.command, "--help"], { cwd: repoRoot })
    assert.strictEqual(r.code, 0, `${p.plan.command} is a command: ${r.stderr}`)
    for (const flag of p.plan.flags) assert.include(r.stdout, `${flag} `, `${p.plan.command} takes ${flag}`)
  })

  it.skipIf(helm === undefined).each(byKind("helm").map((p) => [`${p.where}: ${p.command}`, p] as const))("%s", (_name, p) => {
    execFileSync(helm ?? "helm", p.plan.args, { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] })
  })
})
