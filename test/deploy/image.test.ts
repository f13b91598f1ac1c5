/**
 * The container recipe (Dockerfile, .dockerignore) and flake.nix, read as text: what issue 6 asks of them and
 * what the Deployment relies on (uid 65532, the CLI as entrypoint, `serve --config <mounted file>`).
 * deploy/image/verify-recipe.sh runs the recipe itself (not part of `npm test`: it needs the npm registry).
 * Where `nix` is installed, the flake's outputs are also evaluated, against a stand-in for nixpkgs
 * (test/deploy/nix-stub): nixpkgs itself cannot be fetched here, so nothing is built.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
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

const nixVersion = (() => {
  try {
    return execFileSync("nix", ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })
  } catch {
    return undefined
  }
})()

describe.skipIf(nixVersion === undefined)("flake.nix outputs (evaluated with a stand-in nixpkgs)", () => {
  const evalJson = (attr: string, apply?: string): unknown =>
    JSON.parse(execFileSync("nix", [
      "eval", "--json", "--no-write-lock-file",
      "--override-input", "nixpkgs", `path:${path.join(repoRoot, "test/deploy/nix-stub")}`,
      `git+file://${repoRoot}#${attr}`,
      ...(apply === undefined ? [] : ["--apply", apply])
    ], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: 120_000,
      env: { ...process.env, NIX_CONFIG: "experimental-features = nix-command flakes" }
    }))

  it("packages, app, dev shell and image evaluate to what the Dockerfile and the manifests expect", () => {
    const systems = ["x86_64-linux", "aarch64-linux", "x86_64-darwin", "aarch64-darwin"]
    const outputs = evalJson("packages", "ps: builtins.mapAttrs (_: builtins.attrNames) ps") as Record<string, ReadonlyArray<string>>
    assert.sameMembers(Object.keys(outputs), systems)
    assert.sameMembers([...(outputs["x86_64-linux"] ?? [])], ["default", "flyte-pod-webhook", "image"])
    assert.sameMembers([...(outputs["aarch64-darwin"] ?? [])], ["default", "flyte-pod-webhook"])
    const image = evalJson("packages.x86_64-linux.image.config") as { Entrypoint: ReadonlyArray<string>; Cmd: ReadonlyArray<string>; User: string }
    assert.match(image.Entrypoint[0] ?? "", /-nodejs-24\/bin\/node$/)
    assert.match(image.Entrypoint[1] ?? "", /\/lib\/flyte-pod-webhook\/bin\/flyte-pod-webhook\.js$/)
    assert.deepStrictEqual(image.Cmd, ["serve", "--config", "/etc/flyte/config/config.yaml"])
    assert.strictEqual(image.User, "65532:65532")
    assert.match(evalJson("apps.x86_64-linux.default.program") as string, /\/bin\/flyte-pod-webhook$/)
    assert.deepStrictEqual(evalJson("packages.x86_64-linux.default.npmFlags"), ["--omit=dev"])
    assert.deepStrictEqual(
      evalJson("devShells.x86_64-linux.default.packages", "map (p: p.name)"),
      ["nodejs-24", "go", "kubectl", "openssl"]
    )
  })
})
