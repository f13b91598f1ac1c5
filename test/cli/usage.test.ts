/**
 * The command line as a user meets it: a usage mistake exits 2 with one line and a hint on stderr and nothing
 * on stdout (1 means "denied" for mutate); `--help` lists each command's exit codes; `--version`; no global
 * flag that does nothing (`--log-level`) or that no doc mentions (`--wizard`, `--completions`).
 */
import { assert, describe, it } from "vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { repo, runCli } from "./support.ts"

const version = (JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8")) as { version: string }).version

describe.concurrent("usage mistakes: exit 2, one line and a hint on stderr, nothing on stdout", () => {
  it.each([
    [["mutate", "--bogus", "x"], "flyte-pod-webhook mutate: unknown flag --bogus", "flyte-pod-webhook mutate"],
    [["mutate", "--confg", "x.yaml"], "flyte-pod-webhook mutate: unknown flag --confg (did you mean --config?)", "flyte-pod-webhook mutate"],
    [["mutate", "-o", "xml"], 'flyte-pod-webhook mutate: invalid value "xml" for --output: expected one of pod, patch, review', "flyte-pod-webhook mutate"],
    [["mutate", "a.yaml", "b.yaml"], 'flyte-pod-webhook mutate: unexpected argument "b.yaml"', "flyte-pod-webhook mutate"],
    [["frobnicate"], 'flyte-pod-webhook: unknown command "frobnicate" (commands: serve, mutate, init-certs, unregister, doctor)', "flyte-pod-webhook"],
    [["serv"], 'flyte-pod-webhook: unknown command "serv" (did you mean serve?)', "flyte-pod-webhook"],
    [["serve", "--log-level", "Debug"], "flyte-pod-webhook serve: unknown flag --log-level", "flyte-pod-webhook serve"],
    [["--wizard"], "flyte-pod-webhook: unknown flag --wizard", "flyte-pod-webhook"],
    [["--completions", "bash"], "flyte-pod-webhook: unknown flag --completions", "flyte-pod-webhook"]
  ])("%j", async (args, line, command) => {
    const r = await runCli(args)
    assert.strictEqual(r.code, 2, r.stderr)
    assert.strictEqual(r.stdout, "")
    assert.strictEqual(r.stderr, `${line}\nSee '${command} --help' for usage.\n`)
  })

  it("no command at all: the help on stderr, exit 2", async () => {
    const r = await runCli([])
    assert.strictEqual(r.code, 2)
    assert.strictEqual(r.stdout, "")
    assert.include(r.stderr, "SUBCOMMANDS")
  })
})

describe.concurrent("--help and --version", () => {
  const commands = {
    serve: ["0   stopped by SIGTERM or SIGINT after draining", "1   cannot start", "2   the config"],
    mutate: ["0   allowed", "1   denied", "2   the input or the config cannot be used"],
    "init-certs": ["0   the Secret was created, updated or already valid", "1   the API server refused", "2   the config"],
    unregister: ["0   deleted, or already absent", "1   the API server refused", "2   the config"],
    doctor: ["0   every check passed", "1   a problem was found", "2   it cannot check"]
  }

  it.each(Object.entries(commands))("%s --help lists its exit codes, usage mistakes included, on stdout", async (command, codes) => {
    const r = await runCli([command, "--help"])
    assert.strictEqual(r.code, 0)
    assert.strictEqual(r.stderr, "")
    const section = r.stdout.slice(r.stdout.indexOf("\nEXIT CODES\n"))
    assert.notStrictEqual(r.stdout.indexOf("\nEXIT CODES\n"), -1, r.stdout)
    for (const code of codes) assert.include(section, `\n  ${code}`)
    assert.include(section, "a usage mistake")
  })

  it.each([[[]], [["serve"]], [["mutate"]], [["init-certs"]], [["unregister"]], [["doctor"]]])(
    "%j --help offers only --help and --version as global flags",
    async (args) => {
      const r = await runCli([...args, "--help"])
      assert.strictEqual(r.code, 0)
      for (const gone of ["--log-level", "--wizard", "--completions"]) assert.notInclude(r.stdout, gone)
      assert.include(r.stdout, "--help, -h")
      assert.include(r.stdout, "--version, -v")
    }
  )

  it("--version prints package.json's version", async () => {
    const r = await runCli(["--version"])
    assert.strictEqual(r.code, 0)
    assert.strictEqual(r.stdout, `flyte-pod-webhook ${version}\n`)
  })
})
