/**
 * The container recipe (Dockerfile, .dockerignore) and flake.nix, read as text: what issue 6 asks of them and
 * what the Deployment relies on (uid 65532, the CLI as entrypoint, `serve --config <mounted file>`).
 * deploy/image/verify-recipe.sh runs the recipe itself (not part of `npm test`: it needs the npm registry).
 */
import { assert, describe, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { repoRoot } from "./Manifests.ts"

const read = (file: string) => fs.readFileSync(path.join(repoRoot, file), "utf8")
const instructions = read("Dockerfile")
  .replace(/\\\n/g, " ")
  .split("\n")
  .map((line) => line.trim())
  .filter((line) => line !== "" && !line.startsWith("#"))

describe("Dockerfile", () => {
  it("builds on Node 24 slim, installs production dependencies only, exactly as locked", () => {
    assert.strictEqual(instructions[0], "FROM node:24-bookworm-slim")
    assert.strictEqual(instructions.filter((i) => i.startsWith("FROM ")).length, 1)
    const install = instructions.filter((i) => /^RUN .*npm /.test(i))
    assert.lengthOf(install, 1)
    assert.match(install[0] ?? "", /npm ci --omit=dev\b/)
    assert.notMatch(instructions.join("\n"), /npm (install|i) /, "never an unlocked install")
  })

  it("keeps the app outside node_modules, where Node 24 strips TypeScript types", () => {
    assert.include(instructions, "WORKDIR /app")
    assert.include(instructions, "COPY bin/ ./bin/")
    assert.include(instructions, "COPY src/ ./src/")
    assert.notMatch(instructions.join("\n"), /node_modules\/flyte-pod-webhook/)
  })

  it("runs as uid 65532 with the CLI as entrypoint and serve as the default command", () => {
    const last = (prefix: string) => instructions.filter((i) => i.startsWith(prefix)).at(-1) ?? ""
    assert.strictEqual(last("USER "), "USER 65532:65532")
    assert.deepStrictEqual(JSON.parse(last("ENTRYPOINT ").slice("ENTRYPOINT ".length)), ["node", "bin/flyte-pod-webhook.js"])
    assert.deepStrictEqual(JSON.parse(last("CMD ").slice("CMD ".length)), ["serve", "--config", "/etc/flyte/config/config.yaml"])
    assert.isTrue(fs.existsSync(path.join(repoRoot, "bin/flyte-pod-webhook.js")))
  })

  it("sends only what the image needs to the builder", () => {
    const lines = read(".dockerignore").split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"))
    assert.deepStrictEqual(lines, ["*", "!package.json", "!package-lock.json", "!bin/", "!src/"])
  })
})

describe("flake.nix", () => {
  const flake = read("flake.nix")

  it("builds the npm dependencies from package-lock.json with importNpmLock (no hand-kept hash)", () => {
    assert.include(flake, "pkgs.importNpmLock { npmRoot = ./.; }")
    assert.include(flake, "pkgs.importNpmLock.npmConfigHook")
    assert.include(flake, "\"--omit=dev\"")
    assert.notMatch(flake, /npmDepsHash|outputHash|sha256-/)
  })

  it("offers the CLI, an app, a dev shell with Node 24, Go and kubectl, and an OCI image", () => {
    for (const output of ["packages =", "apps =", "devShells ="]) assert.include(flake, output)
    assert.include(flake, "default = cli;")
    assert.include(flake, "type = \"app\";")
    assert.include(flake, "packages = [ pkgs.nodejs_24 pkgs.go pkgs.kubectl")
    assert.include(flake, "dockerTools.buildLayeredImage")
    assert.include(flake, "User = \"65532:65532\";")
    assert.include(flake, "Cmd = [ \"serve\" \"--config\" \"/etc/flyte/config/config.yaml\" ];")
    assert.include(flake, "lib/flyte-pod-webhook", "the app stays outside node_modules")
  })
})
