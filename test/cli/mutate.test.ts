/**
 * `flyte-pod-webhook mutate` as a user runs it: the real bin script in a child process (Node 24, the same
 * binary running vitest), from the repository root, for each exit code: 0 allowed (changed or not),
 * 1 denied (reason on stderr), 2 unreadable input or config (the message says which and why).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import { encodeString } from "../../src/domain/Base32.ts"
import { add, dirEnv, filePrefixEnv, prefixEnv, secretRef } from "../fixtures/Expected.ts"
import { repo, runCli } from "./support.ts"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-cli-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))
const file = (name: string, text: string) => {
  const p = path.join(tmp, name)
  fs.mkdirSync(path.dirname(p), { recursive: true })
  fs.writeFileSync(p, text)
  return p
}

/** run executes `mutate <args>` (child processes run concurrently). */
const run = (args: ReadonlyArray<string>, options: { readonly input?: string; readonly env?: Record<string, string> } = {}) =>
  runCli(["mutate", ...args], options)

// The command's JSON output, indexed freely by the assertions (deliberately untyped).
const json = (text: string) => JSON.parse(text) as { [key: string]: any }

const k8sEnvAdded = [
  secretRef("_FSEC_DB-CREDS_PASSWORD", "db-creds", "password"),
  secretRef("DB_PASSWORD", "db-creds", "password"),
  prefixEnv
]
const exampleEnv = { name: "FLYTE_INTERNAL_EXECUTION_PROJECT", value: "flytesnacks" }

describe.concurrent("exit 0: allowed", () => {
  it("a YAML Pod file: prints the mutated Pod as JSON", async () => {
    const r = await run(["deploy/examples/k8s-env.yaml"])
    assert.strictEqual(r.code, 0, r.stderr)
    assert.strictEqual(r.stderr, "")
    const pod = json(r.stdout)
    assert.strictEqual(pod["metadata"]["name"], "k8s-env")
    assert.deepStrictEqual(pod["spec"]["containers"][0]["env"], [exampleEnv, ...k8sEnvAdded])
  })

  it("unchanged: a Pod without the label is printed as it came", async () => {
    const pod = { apiVersion: "v1", kind: "Pod", metadata: { name: "plain" }, spec: { containers: [{ name: "c", image: "busybox" }] } }
    const r = await run(["-"], { input: JSON.stringify(pod) })
    assert.strictEqual(r.code, 0, r.stderr)
    assert.deepStrictEqual(json(r.stdout), pod)
  })

  it("--output patch prints the JSONPatch", async () => {
    const r = await run(["--output", "patch", "deploy/examples/k8s-env.yaml"])
    assert.strictEqual(r.code, 0, r.stderr)
    assert.deepStrictEqual(json(r.stdout), k8sEnvAdded.map((e) => add("/spec/containers/0/env/-", e)))
  })

  it("--output review on an AdmissionReview file echoes its uid and carries the base64 patch", async () => {
    const r = await run(["--output", "review", path.join(repo, "bench/flyte-task-pod-review.json")]) // a copy of the shared fixture
    assert.strictEqual(r.code, 0, r.stderr)
    const review = json(r.stdout)
    assert.strictEqual(review["apiVersion"], "admission.k8s.io/v1")
    assert.strictEqual(review["kind"], "AdmissionReview")
    assert.strictEqual(review["response"]["uid"], "705ab4f5-6393-11e8-b7cc-42010a800002")
    assert.strictEqual(review["response"]["allowed"], true)
    assert.strictEqual(review["response"]["patchType"], "JSONPatch")
    assert.deepStrictEqual(json(Buffer.from(review["response"]["patch"], "base64").toString("utf8")), [
      add("/spec/containers/0/env/-", secretRef("_FSEC_DB-CREDS_PASSWORD", "db-creds", "password")),
      add("/spec/containers/0/env/-", prefixEnv)
    ])
    assert.deepStrictEqual(review["response"]["auditAnnotations"], { "injected-secrets": "db-creds/password" })
  })

  it("standard input (-) takes YAML too; -o is --output", async () => {
    const r = await run(["-o", "patch", "-"], { input: fs.readFileSync(path.join(repo, "deploy/examples/k8s-file.yaml"), "utf8") })
    assert.strictEqual(r.code, 0, r.stderr)
    const ops = json(r.stdout)
    assert.deepStrictEqual(ops[0], add("/spec/volumes", [{
      name: "mrrc1y2smvshgxy",
      secret: { secretName: "db-creds", items: [{ key: "username", path: "username" }, { key: "password", path: "password" }], optional: true }
    }]))
    assert.deepStrictEqual(ops.slice(1), [
      add("/spec/containers/0/env/-", dirEnv),
      add("/spec/containers/0/env/-", filePrefixEnv),
      add("/spec/containers/0/volumeMounts", [{ name: "mrrc1y2smvshgxy", readOnly: true, mountPath: "/etc/flyte/secrets/db-creds" }])
    ])
  })

  it("a Global secret from this process's env: FLYTE_SECRET_<GROUP>_<KEY>", async () => {
    const r = await run(["deploy/examples/global.yaml"], { env: { FLYTE_SECRET_EXAMPLE_GREETING: "hi from env" } })
    assert.strictEqual(r.code, 0, r.stderr)
    assert.deepStrictEqual(json(r.stdout)["spec"]["containers"][0]["env"], [
      exampleEnv,
      prefixEnv,
      { name: "_FSEC_EXAMPLE_GREETING", value: "hi from env" }
    ])
  })

  it("a Global secret from the secrets folder named by the config", async () => {
    const folder = path.join(tmp, "global")
    file("global/example/greeting", "hi from a file")
    const config = file("global.yaml", `secrets:\n  secrets-prefix: ${folder}\n`)
    const r = await run(["--config", config, "deploy/examples/global.yaml"])
    assert.strictEqual(r.code, 0, r.stderr)
    assert.deepInclude(json(r.stdout)["spec"]["containers"][0]["env"], { name: "_FSEC_EXAMPLE_GREETING", value: "hi from a file" })
  })

  it("env wins over the file: both hold example/greeting, the env var's value is injected (as global.yaml says)", async () => {
    const comment = fs.readFileSync(path.join(repo, "deploy/examples/config/global.yaml"), "utf8")
    assert.isBelow(comment.indexOf("env var"), comment.indexOf("the file"), "the example config names env first")
    const r = await run(["--config", "deploy/examples/config/global.yaml", "deploy/examples/global.yaml"], {
      env: { FLYTE_SECRET_EXAMPLE_GREETING: "from env" }
    })
    assert.strictEqual(r.code, 0, r.stderr)
    const env = json(r.stdout)["spec"]["containers"][0]["env"]
    assert.deepInclude(env, { name: "_FSEC_EXAMPLE_GREETING", value: "from env" })
    assert.lengthOf(env.filter((e: { name: string }) => e.name === "_FSEC_EXAMPLE_GREETING"), 1)
  })

  it("warnings go to stderr (an unknown field in a secret annotation), the Pod is still printed", async () => {
    const annotation = encodeString('group: "g"\nkey: "k"\nmount_requirement: ENV_VAR\nfuture: 1\n')
    const pod = { kind: "Pod", metadata: { labels: { "inject-flyte-secrets": "true" }, annotations: { "flyte.secrets/s0": annotation } }, spec: { containers: [{ name: "main", image: "busybox" }] } }
    const r = await run(["-"], { input: JSON.stringify(pod) })
    assert.strictEqual(r.code, 0, r.stderr)
    assert.match(r.stderr, /^warning: flyte\.secrets\/s0: .*future/)
  })
})

describe.concurrent("exit 1: denied, the reason on stderr", () => {
  it("an ENV_VAR secret with only AWS configured", async () => {
    const r = await run(["--config", "deploy/examples/config/aws.yaml", "deploy/examples/k8s-env.yaml"])
    assert.strictEqual(r.code, 1)
    assert.strictEqual(r.stdout, "")
    assert.include(r.stderr, 'denied: flyte-pod-webhook: cannot inject secret "db-creds/password" from annotation flyte.secrets/s0 (')
    assert.include(r.stderr, "AWS: mount requirement ENV_VAR is not supported (use FILE or ANY))")
  })

  it("--output review still prints the denial review", async () => {
    const r = await run(["--config", "deploy/examples/config/aws.yaml", "-o", "review", "deploy/examples/k8s-env.yaml"])
    assert.strictEqual(r.code, 1)
    assert.strictEqual(json(r.stdout)["response"]["allowed"], false)
    assert.strictEqual(json(r.stdout)["response"]["status"]["code"], 403)
  })
})

describe.concurrent("exit 2: the input or the config cannot be used, and the message says which and why", () => {
  it.each([
    ["an unreadable input file", ["/nonexistent/pod.yaml"], "", /^input \/nonexistent\/pod\.yaml cannot be read: ENOENT/],
    ["invalid YAML on stdin", ["-"], "spec: [unclosed\n", /^input <stdin> is not valid YAML: .* at line 2, column 1\n$/],
    ["not a Pod (a Deployment)", ["-"], "kind: Deployment\nspec: {replicas: 1}\n",
      /^input <stdin> \(YAML\): expected a Pod or an AdmissionReview, got kind Deployment\n$/],
    ["not an object", ["-"], "- a\n", /^input <stdin> \(YAML\): expected a Pod or an AdmissionReview, got a list\n$/],
    ["an AdmissionReview of an unknown version", ["-"], '{"apiVersion":"admission.k8s.io/v2","kind":"AdmissionReview","request":{"uid":"u"}}',
      /^input <stdin>: not an AdmissionReview we can answer: apiVersion: Expected "admission.k8s.io\/v1" \| "admission.k8s.io\/v1beta1", got "admission.k8s.io\/v2"/]
  ])("%s", async (_name, args, input, message) => {
    const r = await run(args, { input })
    assert.strictEqual(r.code, 2)
    assert.strictEqual(r.stdout, "")
    assert.match(r.stderr, message)
  })

  it.each([
    ["a bad value names the key", "webhook:\n  listenPort: abc\n", 'config: webhook.listenPort: expected an integer from 0 to 65535, got "abc"'],
    ["an unknown manager names the key and the choices", "webhook:\n  secretManagerType: Bogus\n",
      'config: webhook.secretManagerType: expected one of Global, K8s, AWS, GCP, Vault, Azure, got "Bogus"'],
    ["invalid YAML names the file", "webhook: [\n", "is not valid YAML"],
    ["a misspelt key names the one meant", "webhook:\n  secretManagerTyp: AWS\n", "config: webhook.secretManagerTyp: unknown key (did you mean secretManagerType?)\n"],
    ["every mistake on its own line", "webhook:\n  listenPort: abc\n  maxQueue: -1\n",
      'config: webhook.listenPort: expected an integer from 0 to 65535, got "abc"\nconfig: webhook.maxQueue: expected an integer from 0 to 1000000, got -1\n']
  ])("config: %s", async (_name, text, message) => {
    const config = file(`config-${_name.replaceAll(" ", "-")}.yaml`, text)
    const r = await run(["--config", config, "deploy/examples/k8s-env.yaml"])
    assert.strictEqual(r.code, 2)
    assert.strictEqual(r.stdout, "")
    assert.include(r.stderr, message)
  })

  it("a missing config file", async () => {
    const r = await run(["--config", "/nonexistent/config.yaml", "deploy/examples/k8s-env.yaml"])
    assert.strictEqual(r.code, 2)
    assert.match(r.stderr, /^config: cannot read config file \/nonexistent\/config\.yaml: ENOENT/)
    assert.strictEqual(r.stdout, "")
  })
})
