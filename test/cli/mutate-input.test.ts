/**
 * `mutate`'s input as users give it: standard input read as a stream (a slow pipe, a terminal), at most 8 MiB,
 * messages that name the format that failed (JSON or YAML) and never quote the input; and on a denial nothing
 * on stdout unless `-o review` asked for the denial itself.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import { baseEnv, bin, repo, runCli, sleep } from "./support.ts"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-mutate-input-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))
const file = (name: string, content: string | Uint8Array) => {
  const p = path.join(tmp, name)
  fs.writeFileSync(p, content)
  return p
}

const podYaml = fs.readFileSync(path.join(repo, "deploy/examples/k8s-env.yaml"), "utf8")
const mutate = (args: ReadonlyArray<string>, options: Parameters<typeof runCli>[1] = {}) => runCli(["mutate", ...args], options)

describe.concurrent("standard input is read as a stream", () => {
  it("a slow pipe: nothing for a second, then the Pod in pieces (as `kubectl get pod -o yaml |` delivers it)", async () => {
    const r = await mutate(["-o", "patch", "-"], {
      input: async (stdin) => {
        await sleep(1_000)
        const half = Math.floor(podYaml.length / 2)
        stdin.write(podYaml.slice(0, half))
        await sleep(300)
        stdin.write(podYaml.slice(half))
      }
    })
    assert.strictEqual(r.code, 0, r.stderr)
    assert.lengthOf(JSON.parse(r.stdout) as ReadonlyArray<unknown>, 3)
  })

  // A terminal: `script` gives the command a pseudo-terminal; the Pod is typed, then Ctrl-D ends it.
  const hasScript = (() => {
    try {
      execFileSync("script", ["--version"], { stdio: "ignore" })
      return true
    } catch {
      return false
    }
  })()
  it.skipIf(!hasScript)("a terminal: says how to end the input, then reads what is typed up to Ctrl-D", () => {
    const pod = "kind: Pod\nspec:\n  containers: [{name: c, image: busybox}]\n"
    const command = `'${process.execPath}' '${bin}' mutate -o patch -`
    const out = execFileSync("script", ["-qec", command, "/dev/null"], {
      input: `${pod}\u0004`,
      cwd: repo,
      env: baseEnv,
      encoding: "utf8",
      timeout: 60_000
    })
    assert.include(out, "mutate: reading a Pod or AdmissionReview from the terminal; end it with Ctrl-D")
    assert.match(out, /\r?\n\[\]\r?\n/, "the (empty) patch of a Pod without the label")
  })
})

describe.concurrent("too much input: refused with exit 2 after reading at most 8 MiB", () => {
  const big = `kind: Pod\nmetadata:\n  annotations:\n    filler: "${"x".repeat(9 * 1024 * 1024)}"\n`

  it("on standard input", async () => {
    const r = await mutate(["-"], { input: big })
    assert.strictEqual(r.code, 2)
    assert.strictEqual(r.stdout, "")
    assert.strictEqual(r.stderr, "input <stdin> is larger than 8 MiB; mutate reads at most that (a Pod the API server stores is at most 1.5 MiB)\n")
  })

  it("from a file", async () => {
    const r = await mutate([file("big.yaml", big)])
    assert.strictEqual(r.code, 2)
    assert.match(r.stderr, /^input .*big\.yaml is larger than 8 MiB/)
  })
})

describe.concurrent("messages name the format that failed and never quote the input", () => {
  const secretish = "hunter2-do-not-print"

  it.each([
    ["a .json file that is not JSON", "pod.json", `kind: Pod\nmetadata: {name: ${secretish}}\n`,
      /^input .*pod\.json is not valid JSON: an unexpected token where a JSON value was expected\n$/],
    ["input starting with { that is not JSON", "pod-brace.txt", `{"metadata": {"name": "${secretish}"},\n "spec": [}`,
      /^input .*pod-brace\.txt is not valid JSON: .*\n$/],
    ["malformed YAML", "pod.yaml", `metadata:\n  name: ${secretish}\n  name: twice\n`,
      /^input .*pod\.yaml is not valid YAML: Map keys must be unique at line 3, column 3\n$/],
    ["two YAML documents", "two.yaml", `kind: Pod\nmetadata: {name: ${secretish}}\n---\nkind: Pod\n`,
      /^input .*two\.yaml holds 2 YAML documents \(separated by ---\); expected one\n$/],
    ["an empty file", "empty.yaml", "", /^input .*empty\.yaml is empty: expected a Pod or an AdmissionReview, as JSON or YAML\n$/],
    ["only comments", "comments.yaml", `# ${secretish}\n`, /^input .*comments\.yaml is empty: expected a Pod or an AdmissionReview, as JSON or YAML\n$/]
  ])("%s", async (_name, name, content, message) => {
    const r = await mutate([file(name, content)])
    assert.strictEqual(r.code, 2)
    assert.strictEqual(r.stdout, "")
    assert.match(r.stderr, message)
    assert.notInclude(r.stderr, secretish)
  })

  it("a 20 MB binary file is refused in one line, none of its bytes printed", async () => {
    const binary = Buffer.alloc(20 * 1024 * 1024)
    for (let i = 0; i < binary.length; i++) binary[i] = (i * 7919) % 251
    const r = await mutate([file("blob.bin", binary)])
    assert.strictEqual(r.code, 2)
    assert.strictEqual(r.stdout, "")
    assert.match(r.stderr, /^input .*blob\.bin is larger than 8 MiB/)
    const small = await mutate([file("blob-small.bin", binary.subarray(0, 64 * 1024))])
    assert.strictEqual(small.code, 2)
    assert.match(small.stderr, /^input .*blob-small\.bin is binary data \(a NUL byte at offset 0\), not JSON or YAML text\n$/)
  })
})

describe.concurrent("a denial prints nothing on stdout unless the review is asked for", () => {
  const aws = ["--config", "deploy/examples/config/aws.yaml"]

  it.each([["patch"], ["pod"]])("-o %s: exit 1, stdout empty, the reason on stderr", async (output) => {
    const r = await mutate([...aws, "-o", output, "deploy/examples/k8s-env.yaml"])
    assert.strictEqual(r.code, 1)
    assert.strictEqual(r.stdout, "")
    assert.match(r.stderr, /^denied: flyte-pod-webhook: cannot inject secret "db-creds\/password"/)
  })
})
