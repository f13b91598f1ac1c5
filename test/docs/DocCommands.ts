/**
 * DocCommands: what the docs tests do with each command a doc shows. Offline, cheap commands of this CLI run
 * for real (`mutate`, `--help`, `--version`); its other commands (they need a cluster or serve forever) are
 * checked for existence and for the flags they use; other tools' commands are listed here with the reason they
 * are not run. A command no rule covers fails the docs test: classify it here (or mark its block illustrative).
 */
import { shellWords } from "./DocBlocks.ts"

export type Plan =
  /** Run `flyte-pod-webhook <args>` and check its exit code (and output where the doc shows it). */
  | { readonly kind: "run"; readonly args: ReadonlyArray<string>; readonly env: Readonly<Record<string, string>> }
  /** A command that needs a cluster or runs forever: `<command> --help` must list every flag it uses. */
  | { readonly kind: "flags"; readonly command: string; readonly flags: ReadonlyArray<string> }
  /** Run helm (when the end-to-end tooling built it). */
  | { readonly kind: "helm"; readonly args: ReadonlyArray<string> }
  | { readonly kind: "not run"; readonly reason: string }

/** Commands of other tools, by their first words, and why the docs test does not run them. */
const notRun: ReadonlyArray<readonly [RegExp, string]> = [
  [/^npm ci\b/, "installs the dependencies this test runs on"],
  [/^npm (test|run test:(unit|e2e))\b/, "runs the test suite this test is part of"],
  [/^npx vitest\b/, "runs the test suite this test is part of"],
  [/^npm start\b/, "serves until stopped; test/cli/serve.test.ts runs serve --embedded and its printed curl"],
  [/^npm run bench\b/, "the benchmark: minutes of both cores"],
  [/^curl\b/, "needs a running server; test/cli/serve.test.ts sends the request serve --embedded prints"],
  [/^kubectl\b/, "needs a cluster"],
  [/^helm (install|upgrade|uninstall)\b/, "needs a cluster"],
  [/^\(cd deploy\/base && kustomize edit\b/, "edits the base for your registry"],
  [/^kustomize\b/, "needs a cluster or edits the base"],
  [/^docker\b/, "no container engine here (deploy/image/verify-recipe.sh proves the recipe)"],
  [/^nix\b/, "nixpkgs cannot be fetched here (docs/deploy.md, Nix)"],
  [/^bash deploy\/image\/verify-recipe\.sh\b/, "installs from the npm registry (~30 s); run by hand"],
  [/^bash deploy\/render\.sh\b/, "test/deploy/rendered.test.ts runs it"],
  [/^bash deploy\/image\/build\.sh\b/, "builds the image (about a minute, root); the e2e global setup runs it and test/deploy/image-archive.test.ts inspects it"],
  [/^bash deploy\/image\/run\.sh\b/, "runs the built image; test/e2e/image.test.ts and test/deploy/image-archive.test.ts run it"],
  [/^skopeo\b/, "pushes to a registry"]
]

const PLACEHOLDER = /[<>[\]$…]|\.\.\./

/** The command line after leading `NAME=value` assignments, and those assignments. */
const splitEnv = (line: string): { readonly env: Record<string, string>; readonly rest: string } => {
  const env: Record<string, string> = {}
  let rest = line.trim()
  for (let m = /^([A-Z_][A-Z0-9_]*)=(\S*)\s+/.exec(rest); m !== null; m = /^([A-Z_][A-Z0-9_]*)=(\S*)\s+/.exec(rest)) {
    env[m[1] ?? ""] = m[2] ?? ""
    rest = rest.slice(m[0].length)
  }
  return { env, rest }
}

const CLI = /^(?:npx flyte-pod-webhook|flyte-pod-webhook|node bin\/flyte-pod-webhook\.js)(?:\s+|$)/

/** isCliCommand: the text is a command line of this CLI (possibly after env assignments). */
export const isCliCommand = (text: string): boolean => CLI.test(splitEnv(text).rest)

/** planFor: what to do with a command line a doc shows; undefined when no rule covers it. */
export const planFor = (line: string): Plan | undefined => {
  const { env, rest } = splitEnv(line)
  const cli = CLI.exec(rest)
  if (cli !== null) {
    const text = rest.slice(cli[0].length)
    if (PLACEHOLDER.test(text)) return { kind: "not run", reason: "has placeholders for the reader to fill in" }
    const args = shellWords(text)
    if (args.length === 0) return { kind: "not run", reason: "the program's name, not a command" }
    const command = args.find((a) => !a.startsWith("-"))
    const positional = args.filter((a) => !a.startsWith("-")).length
    // mutate with a file (or only --help / --version) runs; `mutate` alone is a mention in prose (it would read stdin).
    if (command === undefined || (command === "mutate" && positional > 1)) return { kind: "run", args, env }
    return { kind: "flags", command, flags: args.filter((a) => a.startsWith("--")).map((a) => a.split("=")[0] ?? a) }
  }
  if (/^helm (lint|template)\b/.test(rest)) return { kind: "helm", args: shellWords(rest).slice(1) }
  const reason = notRun.find(([pattern]) => pattern.test(rest))?.[1]
  return reason === undefined ? undefined : { kind: "not run", reason }
}
