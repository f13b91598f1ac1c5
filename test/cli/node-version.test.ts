/**
 * Node versions: the package says it needs Node 24 (`engines`), and the command line `npm start` echoes
 * (`node bin/flyte-pod-webhook.js serve --embedded`) fails clearly, not with a stack trace about `.ts` files,
 * when a user pastes it into a shell whose `node` is an older system Node. That case runs when such a Node is
 * on PATH (this machine has Debian's Node 20 in /usr/bin).
 */
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { assert, describe, it } from "vitest"
import { baseEnv, repo } from "./support.ts"

const manifest = JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8")) as {
  engines?: { node?: string }
  scripts: Record<string, string>
}

/** olderNode: a `node` on PATH (outside this package) older than 24, if any. */
const olderNode = (() => {
  for (const dir of (process.env["PATH"] ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, "node")
    if (dir.startsWith(repo) || !fs.existsSync(candidate)) continue
    try {
      const version = execFileSync(candidate, ["--version"], { encoding: "utf8" }).trim()
      if (Number(version.replace(/^v/, "").split(".")[0]) < 24) return { path: candidate, version }
    } catch {
      continue
    }
  }
  return undefined
})()

describe("Node versions", () => {
  it("package.json asks for Node 24 or newer", () => {
    assert.deepStrictEqual(manifest.engines, { node: ">=24" })
  })

  it("npm start runs the bin script, which checks the Node version before loading any TypeScript", () => {
    assert.strictEqual(manifest.scripts["start"], "node bin/flyte-pod-webhook.js serve --embedded")
  })

  it.skipIf(olderNode === undefined)(`the line npm start echoes, run by an older system Node (${olderNode?.version}), says what to do`, () => {
    const [, ...args] = (manifest.scripts["start"] ?? "").split(" ")
    const r = spawnSync(olderNode?.path ?? "node", args, { cwd: repo, env: baseEnv, encoding: "utf8", timeout: 30_000 })
    assert.strictEqual(r.status, 2, r.stderr)
    assert.strictEqual(r.stdout, "")
    assert.strictEqual(
      r.stderr,
      `flyte-pod-webhook needs Node.js 24 or newer; this is ${olderNode?.version} (${olderNode?.path}).\n` +
        "npm scripts and npx run the Node 24 that `npm ci` installed: use `npm start` or `npx flyte-pod-webhook <command>`.\n"
    )
  })
})
