/**
 * The container recipe (Dockerfile, .dockerignore) and flake.nix, read as text: what the Deployment relies on
 * (uid 65532, the CLI as entrypoint, `serve --config <mounted file>`), and that the Dockerfile says what
 * deploy/image/Layout.ts says, the layout deploy/image/build.sh builds without an engine (workdir, copied
 * paths, user and its passwd line, entrypoint, command, env, ports, labels, the Node release).
 * test/deploy/image-archive.test.ts holds the built archive to the same layout, and so to this Dockerfile.
 * deploy/image/verify-recipe.sh runs the recipe itself (not part of `npm test`: it needs the npm registry).
 * Where `nix` is installed, the flake's outputs are also evaluated, against a stand-in for nixpkgs
 * (test/deploy/nix-stub): nixpkgs itself cannot be fetched here, so nothing is built.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import * as Layout from "../../deploy/image/Layout.ts"
import { dockerfileInstructions, lockedNodeVersion } from "./Dockerfile.ts"
import { repoRoot } from "./Manifests.ts"

const read = (file: string) => fs.readFileSync(path.join(repoRoot, file), "utf8")
const instructions = dockerfileInstructions()
const args = (op: string) => instructions.filter((i) => i.op === op).map((i) => i.args)
const last = (op: string) => args(op).at(-1) ?? ""

describe("Dockerfile", () => {
  it("builds on the Node 24 release package-lock.json pins, as build.sh's node-binary.json does", () => {
    const node = lockedNodeVersion()
    assert.match(node, /^24\./)
    assert.deepStrictEqual(args("FROM"), [`node:${node}-bookworm-slim`])
    const pin = JSON.parse(read("deploy/image/node-binary.json")) as { package: string; version: string }
    assert.deepStrictEqual(pin.package, Layout.NodePlatformPackage)
    assert.strictEqual(pin.version, node)
  })

  it("installs production dependencies only, exactly as locked, and leaves no npm cache or logs", () => {
    const install = args("RUN").filter((i) => /\bnpm /.test(i))
    assert.lengthOf(install, 1)
    assert.match(install[0] ?? "", /^npm ci --omit=dev --ignore-scripts\b/)
    assert.match(install[0] ?? "", /&& rm -rf "\$\(npm config get cache\)"$/)
    assert.notMatch(instructions.map((i) => i.args).join("\n"), /npm (install|i) /, "never an unlocked install")
  })

  it("copies Layout.AppPaths into Layout.WorkingDir, outside node_modules, as .dockerignore allows", () => {
    assert.strictEqual(last("WORKDIR"), Layout.WorkingDir)
    const copied = args("COPY").flatMap((line) => line.split(" ").slice(0, -1))
    assert.deepStrictEqual(copied, [...Layout.AppPaths])
    for (const line of args("COPY")) assert.match(line, /\.\/(bin\/|src\/)?$/, `${line} copies into the workdir`)
    const ignore = read(".dockerignore").split("\n").filter((l) => l.trim() !== "" && !l.startsWith("#"))
    assert.deepStrictEqual(ignore, ["*", ...Layout.AppPaths.map((p) => `!${p}`)])
  })

  it("runs as Layout.User, created with the passwd and group lines the built image carries", () => {
    assert.strictEqual(last("USER"), Layout.User)
    const useradd = args("RUN").find((i) => i.includes("useradd")) ?? ""
    const flag = (name: string) => new RegExp(`--${name} (\\S+)`).exec(useradd)?.[1]
    const [uid, gid] = Layout.User.split(":")
    assert.strictEqual(flag("uid"), uid)
    assert.strictEqual(flag("gid"), gid)
    const name = useradd.trim().split(" ").at(-1)
    assert.strictEqual(Layout.PasswdLine, `${name}:x:${uid}:${gid}::${flag("home-dir")}:${flag("shell")}`)
    assert.match(useradd, new RegExp(`groupadd --gid ${gid} ${name}\\b`))
    assert.strictEqual(Layout.GroupLine, `${name}:x:${gid}:`)
  })

  it("has Layout's entrypoint, command, env and ports", () => {
    assert.deepStrictEqual(JSON.parse(last("ENTRYPOINT")), [...Layout.Entrypoint])
    assert.deepStrictEqual(JSON.parse(last("CMD")), [...Layout.Cmd])
    const env = Object.fromEntries(args("ENV").map((line) => {
      const match = /^(\w+)=(?:"(.*)"|(\S*))$/.exec(line)
      assert.isNotNull(match, `ENV ${line} is KEY=value`)
      return [match![1], match![2] ?? match![3]]
    }))
    assert.deepStrictEqual(env, { ...Layout.Env })
    assert.deepStrictEqual(last("EXPOSE").split(" ").map((p) => `${p}/tcp`), [...Layout.ExposedPorts])
    assert.isTrue(fs.existsSync(path.join(repoRoot, "bin/flyte-pod-webhook.js")))
  })

  it("labels the image with the OCI keys build.sh sets (source, revision, version, licenses, title)", () => {
    const labels = args("LABEL").join(" ")
    for (const key of [Layout.LabelKeys.source, Layout.LabelKeys.revision, Layout.LabelKeys.version, Layout.LabelKeys.licenses, Layout.LabelKeys.title]) {
      assert.include(labels, `${key}=`)
    }
    const pkg = JSON.parse(read("package.json")) as { version: string; license: string }
    assert.include(labels, `${Layout.LabelKeys.licenses}="${pkg.license}"`)
    assert.include(args("ARG"), `VERSION=${pkg.version}`)
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
