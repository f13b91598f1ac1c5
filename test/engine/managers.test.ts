/**
 * One row per row of spec section 3 and per mount requirement, with the exact ops written out from the spec.
 * The Pod is the table Pod (test/fixtures/Expected.ts): one init container without env/mounts, one container
 * with one env var and an empty mount list, no volumes, so both "whole array" and "append" forms are covered.
 */
import { Effect, Result } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, assert, describe, it } from "vitest"
import { encodeSecret } from "../../src/domain/SecretAnnotation.ts"
import type { SecretRequest } from "../../src/domain/SecretRequest.ts"
import { configDoc, lookupFor, opsFor, resolve, secret } from "../fixtures/Engine.ts"
import {
  add,
  AwsImage,
  AzureImage,
  defaultResources,
  DIR,
  dirEnv,
  everywhere,
  filePrefixEnv,
  GcpImage,
  initOps,
  mainOps,
  prefixEnv,
  secretRef,
  tablePodSpec,
  vaultAnnotationOps
} from "../fixtures/Expected.ts"
import { reviewWith } from "../fixtures/Mutators.ts"
import { patchOf, pod, review } from "../fixtures/Pods.ts"

// A Global secrets folder with one secret, and files just outside it that traversal must never reach.
const root = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-managers-"))
const secretsDir = path.join(root, "secrets")
fs.mkdirSync(path.join(secretsDir, "my-secret"), { recursive: true })
fs.writeFileSync(path.join(secretsDir, "my-secret", "API_Key"), "from-file")
fs.mkdirSync(path.join(root, "outside"))
fs.writeFileSync(path.join(root, "outside", "API_Key"), "LEAKED-OUTSIDE")
fs.writeFileSync(path.join(root, "API_Key"), "LEAKED-PARENT")
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

const tablePod = () => pod({ spec: tablePodSpec() })

interface Row {
  readonly name: string
  readonly webhook?: Record<string, unknown>
  readonly secrets?: Record<string, string>
  readonly env?: Record<string, string>
  readonly secret: SecretRequest
  readonly manager: string
  readonly ops: ReadonlyArray<unknown>
}

const k8sVolume = { name: "nv3s132fmnzgk4c6", secret: { secretName: "my-secret", items: [{ key: "API_Key", path: "api_key" }], optional: true } }
const k8sMount = { name: "nv3s132fmnzgk4c6", readOnly: true, mountPath: "/etc/flyte/secrets/my-secret" }
const k8sEnvOps = (group: string, envName: string, alias?: string) => {
  const env = [
    secretRef(envName, group, "API_Key"),
    ...(alias === undefined ? [] : [secretRef(alias, group, "API_Key")]),
    prefixEnv
  ]
  return everywhere(env)
}

const AwsGroup = "arn:aws:secretsmanager:us-east-1:123456789012:secret"
const awsVolumeOp = add("/spec/volumes", [{ name: "aws-secret-vol", emptyDir: { medium: "Memory" } }])
const awsMount = { name: "aws-secret-vol", readOnly: true, mountPath: DIR }
const awsPuller = (arn: string, filename: string, extraEnv: ReadonlyArray<unknown> = [], image = AwsImage, resources: unknown = defaultResources) => ({
  name: "aws-pull-secret-1",
  image,
  resources,
  env: [{ name: "SECRET_ARN", value: arn }, { name: "SECRET_FILENAME", value: filename }, dirEnv, filePrefixEnv, ...extraEnv],
  volumeMounts: [{ name: "aws-secret-vol", mountPath: "/tmp" }]
})

const gcpCommand = "gcloud secrets versions access Db-Pass/versions/Latest --out-file=/etc/flyte/secrets/db-pass/latest || " +
  "gcloud secrets versions access Latest --secret=Db-Pass --out-file=/etc/flyte/secrets/db-pass/latest; " +
  "chmod +rX /etc/flyte/secrets/db-pass /etc/flyte/secrets/db-pass/latest"

const AzureGroup = "https://myvault.vault.azure.net/secrets/Db-Pass"
const azureLogin = 'az login --service-principal -u "$AZURE_CLIENT_ID" -t "$AZURE_TENANT_ID" ' +
  '--federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")" --allow-no-subscriptions >/dev/null; '
const azureOps = (command: string) => [
  add("/spec/volumes", [{ name: "azure-secret-vol", emptyDir: { medium: "Memory" } }]),
  ...initOps([dirEnv, filePrefixEnv], [{ name: "azure-secret-vol", readOnly: true, mountPath: DIR }]),
  add("/spec/initContainers/-", {
    name: "azure-pull-secret-1",
    image: AzureImage,
    command: ["sh", "-ec", azureLogin + command],
    resources: defaultResources,
    volumeMounts: [{ name: "azure-secret-vol", mountPath: DIR }],
    env: [dirEnv, filePrefixEnv]
  }),
  ...mainOps([dirEnv, filePrefixEnv], [{ name: "azure-secret-vol", readOnly: true, mountPath: DIR }])
]

const vaultRow = (name: string, kvVersion: string | undefined, s: SecretRequest, ops: ReadonlyArray<unknown>): Row => ({
  name,
  webhook: { secretManagerType: "Vault", ...(kvVersion === undefined ? {} : { vaultSecretManager: { kvVersion } }) },
  secret: s,
  manager: "Vault",
  ops: [...ops, ...everywhere([dirEnv, filePrefixEnv])]
})

const rows: ReadonlyArray<Row> = [
  // ---- Global (spec section 2 and table row Global) ----
  {
    name: "Global ANY: found in the webhook's env",
    env: { "FLYTE_SECRET_MY-SECRET_API_KEY": "from-env" },
    secret: secret({ group: "my-secret", key: "API_Key" }),
    manager: "Global",
    ops: everywhere([prefixEnv, { name: "_FSEC_MY-SECRET_API_KEY", value: "from-env" }])
  },
  {
    name: "Global ENV_VAR: found in the secrets folder",
    secrets: { "secrets-prefix": secretsDir },
    secret: secret({ group: "my-secret", key: "API_Key", mountRequirement: "ENV_VAR" }),
    manager: "Global",
    ops: everywhere([prefixEnv, { name: "_FSEC_MY-SECRET_API_KEY", value: "from-file" }])
  },
  {
    name: "Global ENV_VAR: a custom secrets.env-prefix",
    secrets: { "env-prefix": "MY_PREFIX_" },
    env: { "MY_PREFIX_MY-SECRET_API_KEY": "custom", "FLYTE_SECRET_MY-SECRET_API_KEY": "ignored" },
    secret: secret({ group: "my-secret", key: "API_Key", mountRequirement: "ENV_VAR" }),
    manager: "Global",
    ops: everywhere([prefixEnv, { name: "_FSEC_MY-SECRET_API_KEY", value: "custom" }])
  },
  {
    name: "Global FILE: not served by Global even when the value exists, K8s mounts it",
    secrets: { "secrets-prefix": secretsDir },
    env: { "FLYTE_SECRET_MY-SECRET_API_KEY": "from-env" },
    secret: secret({ group: "my-secret", key: "API_Key", mountRequirement: "FILE" }),
    manager: "K8s",
    ops: [add("/spec/volumes", [k8sVolume]), ...everywhere([dirEnv, filePrefixEnv], [k8sMount])]
  },
  {
    name: "Global not found: K8s is next",
    secrets: { "secrets-prefix": secretsDir },
    secret: secret({ group: "other", key: "API_Key", mountRequirement: "ENV_VAR" }),
    manager: "K8s",
    ops: k8sEnvOps("other", "_FSEC_OTHER_API_KEY")
  },
  {
    name: "Global off (webhook.globalSecrets: false): the env is not consulted",
    webhook: { globalSecrets: false },
    env: { "FLYTE_SECRET_MY-SECRET_API_KEY": "from-env" },
    secret: secret({ group: "my-secret", key: "API_Key", mountRequirement: "ENV_VAR" }),
    manager: "K8s",
    ops: k8sEnvOps("my-secret", "_FSEC_MY-SECRET_API_KEY")
  },
  // ---- K8s ----
  {
    name: "K8s ENV_VAR: secretKeyRef, then the prefix env var",
    secret: secret({ group: "my-secret", key: "API_Key", mountRequirement: "ENV_VAR" }),
    manager: "K8s",
    ops: k8sEnvOps("my-secret", "_FSEC_MY-SECRET_API_KEY")
  },
  {
    name: "K8s ENV_VAR with env_var: the same secretKeyRef again under that name",
    secret: secret({ group: "my-secret", key: "API_Key", mountRequirement: "ENV_VAR", envVar: "API_TOKEN" }),
    manager: "K8s",
    ops: k8sEnvOps("my-secret", "_FSEC_MY-SECRET_API_KEY", "API_TOKEN")
  },
  {
    name: "K8s ANY: secret volume B32(group_), mount at DIR/lower(group), file env vars",
    secret: secret({ group: "my-secret", key: "API_Key" }),
    manager: "K8s",
    ops: [add("/spec/volumes", [k8sVolume]), ...everywhere([dirEnv, filePrefixEnv], [k8sMount])]
  },
  {
    name: "K8s FILE with group_version and env_var: volume B32(group_gv), env_var holds the file path",
    secret: secret({ group: "my-secret", groupVersion: "v2", key: "API_Key", mountRequirement: "FILE", envVar: "API_KEY_FILE" }),
    manager: "K8s",
    ops: [
      add("/spec/volumes", [{ ...k8sVolume, name: "nv3s132fmnzgk4c6oyza" }]),
      ...everywhere(
        [dirEnv, filePrefixEnv, { name: "API_KEY_FILE", value: "/etc/flyte/secrets/my-secret/api_key" }],
        [{ ...k8sMount, name: "nv3s132fmnzgk4c6oyza" }]
      )
    ]
  },
  // ---- AWS ----
  {
    name: "AWS ANY: in-memory volume, puller init container aws-pull-secret-1, read-only mount everywhere",
    webhook: { secretManagerType: "AWS" },
    secret: secret({ group: AwsGroup, key: "Api-Key" }),
    manager: "AWS",
    ops: [
      awsVolumeOp,
      ...initOps([dirEnv, filePrefixEnv], [awsMount]),
      add("/spec/initContainers/-", awsPuller(`${AwsGroup}:Api-Key`, `/${AwsGroup}/api-key`)),
      ...mainOps([dirEnv, filePrefixEnv], [awsMount])
    ]
  },
  {
    name: "AWS FILE with env_var, ':' trimmed in the ARN, configured image and resources",
    webhook: { secretManagerType: "AWS", awsSecretManager: { sidecarImage: "example.com/aws:1", resources: { limits: { cpu: "1" } } } },
    secret: secret({ group: `${AwsGroup}::`, key: "::Api-Key", mountRequirement: "FILE", envVar: "API_KEY_FILE" }),
    manager: "AWS",
    ops: (() => {
      const alias = { name: "API_KEY_FILE", value: `/etc/flyte/secrets/${AwsGroup}::/::api-key` }
      return [
        awsVolumeOp,
        ...initOps([dirEnv, filePrefixEnv, alias], [awsMount]),
        add("/spec/initContainers/-", awsPuller(`${AwsGroup}:Api-Key`, `/${AwsGroup}::/::api-key`, [alias], "example.com/aws:1", { limits: { cpu: "1" } })),
        ...mainOps([dirEnv, filePrefixEnv, alias], [awsMount])
      ]
    })()
  },
  // ---- GCP ----
  {
    name: "GCP ANY: gcloud puller gcp-pull-secret-1 writing lower(DIR/group/gv)",
    webhook: { secretManagerType: "GCP" },
    secret: secret({ group: "Db-Pass", groupVersion: "Latest", key: "ignored" }),
    manager: "GCP",
    ops: [
      add("/spec/volumes", [{ name: "gcp-secret-vol", emptyDir: { medium: "Memory" } }]),
      ...initOps([dirEnv, filePrefixEnv], [{ name: "gcp-secret-vol", readOnly: true, mountPath: DIR }]),
      add("/spec/initContainers/-", {
        name: "gcp-pull-secret-1",
        image: GcpImage,
        command: ["sh", "-ec", gcpCommand],
        resources: defaultResources,
        volumeMounts: [{ name: "gcp-secret-vol", mountPath: DIR }],
        env: [dirEnv, filePrefixEnv]
      }),
      ...mainOps([dirEnv, filePrefixEnv], [{ name: "gcp-secret-vol", readOnly: true, mountPath: DIR }])
    ]
  },
  // ---- Vault ----
  vaultRow("Vault FILE, group_version kv1: .Data", undefined, secret({ group: "kv/app", groupVersion: "kv1", key: "token", mountRequirement: "FILE" }),
    vaultAnnotationOps("df18adec-313b-70af-0591-7e9b08210f3f", "kv/app", "kv/app/token", '{{- with secret "kv/app" -}}{{ .Data.token }}{{- end -}}')),
  vaultRow("Vault ANY, group_version kv2: .Data.data", "1", secret({ group: "kv/app", groupVersion: "kv2", key: "token" }),
    vaultAnnotationOps("5d833299-b98a-2883-4311-8a04395961ae", "kv/app", "kv/app/token", '{{- with secret "kv/app" -}}{{ .Data.data.token }}{{- end -}}')),
  vaultRow("Vault ANY, group_version db: no template", undefined, secret({ group: "database/creds/ro", groupVersion: "db", key: "password" }),
    vaultAnnotationOps("0b1e5363-4378-9312-5b5c-73696deb1174", "database/creds/ro", "database/creds/ro/password", undefined)),
  vaultRow("Vault db without key (ours): the whole credential in the file named after the group", undefined,
    secret({ group: "database/creds/RO", groupVersion: "db", mountRequirement: "FILE" }),
    vaultAnnotationOps("25fa95d3-efdc-efc6-0e08-c1dd85566f65", "database/creds/RO", "database/creds/ro", undefined)),
  vaultRow("Vault legacy kvVersion \"1\" when group_version is something else", "1", secret({ group: "kv/app", groupVersion: "other", key: "token" }),
    vaultAnnotationOps("a29e4d13-6d1c-754f-75e5-8490e4911873", "kv/app", "kv/app/token", '{{- with secret "kv/app" -}}{{ .Data.token }}{{- end -}}')),
  vaultRow("Vault legacy kvVersion \"2\" when group_version is something else", "2", secret({ group: "kv/app", groupVersion: "other", key: "token" }),
    vaultAnnotationOps("a29e4d13-6d1c-754f-75e5-8490e4911873", "kv/app", "kv/app/token", '{{- with secret "kv/app" -}}{{ .Data.data.token }}{{- end -}}')),
  vaultRow("Vault without group_version, default kvVersion 2; file path lower-cased, template key as given", undefined,
    secret({ group: "secret/data/app", key: "API_Key" }),
    vaultAnnotationOps("37621eef-8116-29a7-11df-a6c643c331eb", "secret/data/app", "secret/data/app/api_key", '{{- with secret "secret/data/app" -}}{{ .Data.data.API_Key }}{{- end -}}')),
  // ---- Azure ----
  {
    name: "Azure ANY with group_version: file lower(DIR/<last segment>/<gv>)",
    webhook: { secretManagerType: "Azure" },
    secret: secret({ group: AzureGroup, groupVersion: "0123ABC" }),
    manager: "Azure",
    ops: azureOps(`mkdir -p /etc/flyte/secrets/db-pass; az keyvault secret show --id "${AzureGroup}/0123ABC" --query value -o tsv > /etc/flyte/secrets/db-pass/0123abc; chmod +rX /etc/flyte/secrets/db-pass /etc/flyte/secrets/db-pass/0123abc`)
  },
  {
    name: "Azure with a trailing / on the secret URI: trimmed, as Flyte 2 does, before the version is appended",
    webhook: { secretManagerType: "Azure" },
    secret: secret({ group: `${AzureGroup}/`, groupVersion: "0123ABC" }),
    manager: "Azure",
    ops: azureOps(`mkdir -p /etc/flyte/secrets/db-pass; az keyvault secret show --id "${AzureGroup}/0123ABC" --query value -o tsv > /etc/flyte/secrets/db-pass/0123abc; chmod +rX /etc/flyte/secrets/db-pass /etc/flyte/secrets/db-pass/0123abc`)
  },
  {
    name: "Azure FILE without group_version: latest version into lower(DIR/<last segment>)",
    webhook: { secretManagerType: "Azure" },
    secret: secret({ group: AzureGroup, mountRequirement: "FILE" }),
    manager: "Azure",
    ops: azureOps(`mkdir -p /etc/flyte/secrets; az keyvault secret show --id "${AzureGroup}" --query value -o tsv > /etc/flyte/secrets/db-pass; chmod +rX /etc/flyte/secrets /etc/flyte/secrets/db-pass`)
  }
]

const documentOf = (row: Row) => {
  const doc = configDoc(row.webhook ?? {})
  return { ...doc, secrets: { ...doc.secrets, ...row.secrets } }
}

describe("spec section 3, one row per manager and mount requirement", () => {
  it.each(rows)("$name", (row) => {
    const lookup = lookupFor(documentOf(row), row.env ?? {})
    const result = resolve(lookup, row.secret)
    assert.isTrue(Result.isSuccess(result), JSON.stringify(result))
    if (Result.isSuccess(result)) assert.strictEqual(result.success.manager, row.manager)
    const ops = opsFor(documentOf(row), tablePod(), [row.secret], row.env ?? {})
    assert.deepStrictEqual(ops, row.ops)
    assert.notInclude(JSON.stringify(ops), "LEAKED")
  })
})

describe("Global never reads outside secrets-prefix (ours)", () => {
  it.each(["../outside", ".."])("group %j: no value is found, and K8s cannot name a Secret after it either", (group) => {
    const document = { ...configDoc(), secrets: { "secrets-prefix": secretsDir } }
    const result = resolve(lookupFor(document), secret({ group, key: "API_Key", mountRequirement: "ENV_VAR" }))
    assert.isTrue(Result.isFailure(result))
    if (Result.isFailure(result)) {
      assert.deepStrictEqual(result.failure.attempts.map((a) => a.manager), ["Global", "K8s"])
      assert.match(result.failure.attempts[0]!.reason, /^no env FLYTE_SECRET_/)
      assert.match(result.failure.attempts[1]!.reason, /cannot name a Kubernetes Secret/)
    }
    assert.notInclude(JSON.stringify(result), "LEAKED")
  })
})

interface ErrorRow {
  readonly name: string
  readonly webhook: Record<string, unknown>
  readonly secret: SecretRequest
  readonly attempts: ReadonlyArray<{ readonly manager: string; readonly reason: string }>
}

const noFileGlobal = { manager: "Global", reason: "serves env vars only, not FILE" }
const noGroupKeyGlobal = { manager: "Global", reason: "needs both group and key" }
const envUnsupported = (manager: string) => ({ manager, reason: "mount requirement ENV_VAR is not supported (use FILE or ANY)" })
const globalMiss = (env: string, file: string) => ({
  manager: "Global",
  reason: `no env FLYTE_SECRET_${env} and no file /nonexistent/flyte-pod-webhook-test/secrets/${file}`
})

const errorRows: ReadonlyArray<ErrorRow> = [
  { name: "K8s without group", webhook: {}, secret: secret({ key: "k", mountRequirement: "ENV_VAR" }),
    attempts: [noGroupKeyGlobal, { manager: "K8s", reason: "needs both group (the Secret name) and key" }] },
  { name: "K8s FILE without key", webhook: {}, secret: secret({ group: "g", mountRequirement: "FILE" }),
    attempts: [noFileGlobal, { manager: "K8s", reason: "needs both group (the Secret name) and key" }] },
  { name: "AWS ENV_VAR", webhook: { secretManagerType: "AWS" }, secret: secret({ group: "g", key: "k", mountRequirement: "ENV_VAR" }),
    attempts: [globalMiss("G_K", "g/k"), envUnsupported("AWS")] },
  { name: "AWS without key", webhook: { secretManagerType: "AWS" }, secret: secret({ group: "g", mountRequirement: "FILE" }),
    attempts: [noFileGlobal, { manager: "AWS", reason: "needs both group (the secret ARN) and key" }] },
  { name: "AWS without group", webhook: { secretManagerType: "AWS" }, secret: secret({ key: "k" }),
    attempts: [noGroupKeyGlobal, { manager: "AWS", reason: "needs both group (the secret ARN) and key" }] },
  { name: "GCP ENV_VAR", webhook: { secretManagerType: "GCP" }, secret: secret({ group: "g", groupVersion: "1", key: "k", mountRequirement: "ENV_VAR" }),
    attempts: [globalMiss("G_K", "g/k"), envUnsupported("GCP")] },
  { name: "GCP without group_version", webhook: { secretManagerType: "GCP" }, secret: secret({ group: "g", key: "k", mountRequirement: "FILE" }),
    attempts: [noFileGlobal, { manager: "GCP", reason: "needs both group (the secret) and group_version (its version)" }] },
  { name: "GCP without group", webhook: { secretManagerType: "GCP" }, secret: secret({ groupVersion: "1", mountRequirement: "FILE" }),
    attempts: [noFileGlobal, { manager: "GCP", reason: "needs both group (the secret) and group_version (its version)" }] },
  { name: "GCP group that would break the shell command (ours)", webhook: { secretManagerType: "GCP" },
    secret: secret({ group: "g; rm -rf /", groupVersion: "1", mountRequirement: "FILE" }),
    attempts: [noFileGlobal, { manager: "GCP", reason: "group and group_version may only hold letters, digits and ._:/@+=-" }] },
  { name: "Vault ENV_VAR", webhook: { secretManagerType: "Vault" }, secret: secret({ group: "g", key: "k", mountRequirement: "ENV_VAR" }),
    attempts: [globalMiss("G_K", "g/k"), envUnsupported("Vault")] },
  { name: "Vault without group", webhook: { secretManagerType: "Vault" }, secret: secret({ key: "k", mountRequirement: "FILE" }),
    attempts: [noFileGlobal, { manager: "Vault", reason: "needs group (the Vault secret path)" }] },
  { name: "Vault kv2 without key", webhook: { secretManagerType: "Vault" }, secret: secret({ group: "kv/app", groupVersion: "kv2", mountRequirement: "FILE" }),
    attempts: [noFileGlobal, { manager: "Vault", reason: "needs key (only group_version db secrets may omit it)" }] },
  { name: "Azure ENV_VAR", webhook: { secretManagerType: "Azure" }, secret: secret({ group: "g", key: "k", mountRequirement: "ENV_VAR" }),
    attempts: [globalMiss("G_K", "g/k"), envUnsupported("Azure")] },
  { name: "Azure without group", webhook: { secretManagerType: "Azure" }, secret: secret({ groupVersion: "1", mountRequirement: "FILE" }),
    attempts: [noFileGlobal, { manager: "Azure", reason: "needs group (the Key Vault secret URI)" }] },
  { name: "Azure with a group of slashes only", webhook: { secretManagerType: "Azure" }, secret: secret({ group: "//", mountRequirement: "FILE" }),
    attempts: [noFileGlobal, { manager: "Azure", reason: "needs group (the Key Vault secret URI)" }] },
  { name: "Azure group that would break the shell command (ours)", webhook: { secretManagerType: "Azure" },
    secret: secret({ group: "https://v/secrets/$(id)", mountRequirement: "FILE" }),
    attempts: [noFileGlobal, { manager: "Azure", reason: "group and group_version may only hold letters, digits and ._:/@+=-" }] },
  { name: "all configured managers fail: each is listed in order", webhook: { secretManagerTypes: ["AWS", "GCP", "Vault"] },
    secret: secret({ group: "g", key: "k", mountRequirement: "ENV_VAR" }),
    attempts: [globalMiss("G_K", "g/k"), envUnsupported("AWS"), envUnsupported("GCP"), envUnsupported("Vault")] }
]

describe("every error case: the secret is not injected and each manager's reason is kept", () => {
  it.each(errorRows)("$name", (row) => {
    const result = resolve(lookupFor(configDoc(row.webhook)), row.secret)
    assert.isTrue(Result.isFailure(result))
    if (Result.isFailure(result)) assert.deepStrictEqual(result.failure.attempts, row.attempts)
  })
})

describe("merging into what the Pod already has", () => {
  it("a second key is merged into the Pod's existing volume of that Secret; its mount is reused", () => {
    const existing = pod({
      spec: {
        containers: [{
          name: "main",
          image: "flytekit",
          volumeMounts: [{ name: "db-volume", readOnly: true, mountPath: "/etc/flyte/secrets/db-creds" }]
        }],
        volumes: [{ name: "db-volume", secret: { secretName: "db-creds", items: [{ key: "user", path: "user" }], optional: true } }]
      }
    })
    const ops = opsFor(configDoc(), existing, [secret({ group: "db-creds", key: "Password", mountRequirement: "FILE" })])
    assert.deepStrictEqual(ops, [
      add("/spec/volumes/0/secret/items/-", { key: "Password", path: "password" }),
      add("/spec/containers/0/env", [dirEnv, filePrefixEnv])
    ])
  })

  it("two secrets of one group in one request: one volume with two items, one mount", () => {
    const ops = opsFor(configDoc(), pod(), [
      secret({ group: "db-creds", key: "user" }),
      secret({ group: "db-creds", key: "password", envVar: "DB_PASSWORD_FILE" })
    ])
    assert.deepStrictEqual(ops, [
      add("/spec/volumes", [{
        name: "mrrc1y2smvshgxy",
        secret: { secretName: "db-creds", items: [{ key: "user", path: "user" }, { key: "password", path: "password" }], optional: true }
      }]),
      add("/spec/containers/0/env", [dirEnv, filePrefixEnv, { name: "DB_PASSWORD_FILE", value: "/etc/flyte/secrets/db-creds/password" }]),
      add("/spec/containers/0/volumeMounts", [{ name: "mrrc1y2smvshgxy", readOnly: true, mountPath: "/etc/flyte/secrets/db-creds" }])
    ])
  })

  it("the same key asked twice is one item", () => {
    const ops = opsFor(configDoc(), pod(), [secret({ group: "db-creds", key: "user" }), secret({ group: "db-creds", key: "user" })])
    assert.deepStrictEqual(ops[0], add("/spec/volumes", [{
      name: "mrrc1y2smvshgxy",
      secret: { secretName: "db-creds", items: [{ key: "user", path: "user" }], optional: true }
    }]))
  })

  it("an existing env var is never overridden, in any container", () => {
    const existing = pod({
      spec: {
        initContainers: [{ name: "init", image: "busybox", env: [{ name: "FLYTE_SECRETS_ENV_PREFIX", value: "MINE_" }] }],
        containers: [{
          name: "main",
          image: "flytekit",
          env: [{ name: "_FSEC_DB-CREDS_PASSWORD", value: "set-by-user" }, { name: "FLYTE_SECRETS_ENV_PREFIX", value: "MINE_" }]
        }]
      }
    })
    const ops = opsFor(configDoc(), existing, [secret({ group: "db-creds", key: "password", mountRequirement: "ENV_VAR" })])
    assert.deepStrictEqual(ops, [add("/spec/initContainers/0/env/-", secretRef("_FSEC_DB-CREDS_PASSWORD", "db-creds", "password"))])
  })

  it("a volume name over 63 characters falls back to a stable hash-based name", () => {
    const group = "a-very-long-kubernetes-secret-name-for-the-tests" // B32(group + "_") is 77 characters
    const ops = opsFor(configDoc(), pod(), [secret({ group, key: "k" })])
    const name = "fsec-9a9214780dd259891c95f0b05e12ef6ac628f9d6"
    assert.deepStrictEqual(ops, [
      add("/spec/volumes", [{ name, secret: { secretName: group, items: [{ key: "k", path: "k" }], optional: true } }]),
      add("/spec/containers/0/env", [dirEnv, filePrefixEnv]),
      add("/spec/containers/0/volumeMounts", [{ name, readOnly: true, mountPath: `/etc/flyte/secrets/${group}` }])
    ])
  })

  it("puller init containers are named aws-pull-secret-<number of init containers before it>", () => {
    const existing = pod({
      spec: {
        initContainers: [{ name: "a", image: "busybox" }, { name: "b", image: "busybox" }],
        containers: [{ name: "main", image: "flytekit" }]
      }
    })
    const ops = opsFor(configDoc({ secretManagerType: "AWS" }), existing, [
      secret({ group: "arn:g", key: "one" }),
      secret({ group: "arn:g", key: "two" })
    ])
    const names = ops.filter((op) => op.path === "/spec/initContainers/-").map((op) => (op.value as { name: string }).name)
    assert.deepStrictEqual(names, ["aws-pull-secret-2", "aws-pull-secret-3"])
  })

  it("ours: when that name is already taken by a container, the next free number (never a duplicate name)", () => {
    const existing = pod({
      spec: {
        initContainers: [{ name: "aws-pull-secret-1", image: "busybox" }],
        containers: [{ name: "aws-pull-secret-2", image: "flytekit" }]
      }
    })
    const ops = opsFor(configDoc({ secretManagerType: "AWS" }), existing, [secret({ group: "arn:g", key: "one" })])
    const names = ops.filter((op) => op.path === "/spec/initContainers/-").map((op) => (op.value as { name: string }).name)
    assert.deepStrictEqual(names, ["aws-pull-secret-3"])
  })
})

describe("Vault annotation precedence: per-secret < common < config annotations < the Pod's own", () => {
  const id = "5d833299-b98a-2883-4311-8a04395961ae" // kv/app, kv2, token
  const V = "/metadata/annotations/vault.hashicorp.com~1"
  it("each level overrides the one below it", () => {
    const config = configDoc({
      secretManagerType: "Vault",
      vaultSecretManager: {
        role: "from-role-key",
        annotations: {
          [`vault.hashicorp.com/agent-inject-file-${id}`]: "config-overrides-per-secret",
          "vault.hashicorp.com/agent-pre-populate-only": "false",
          "vault.hashicorp.com/role": "config-overrides-common",
          "vault.hashicorp.com/agent-limits-cpu": "250m"
        }
      }
    })
    const existing = pod({
      annotations: {
        "vault.hashicorp.com/agent-limits-cpu": "pod-overrides-config",
        [`vault.hashicorp.com/agent-inject-template-${id}`]: "pod-overrides-per-secret",
        "vault.hashicorp.com/agent-inject": "pod-overrides-common"
      }
    })
    const ops = opsFor(config, existing, [secret({ group: "kv/app", groupVersion: "kv2", key: "token" })])
    assert.deepStrictEqual(ops, [
      add(`${V}agent-inject-secret-${id}`, "kv/app"),
      add(`${V}agent-inject-file-${id}`, "config-overrides-per-secret"),
      add(`${V}secret-volume-path`, DIR),
      add(`${V}role`, "config-overrides-common"),
      add(`${V}agent-pre-populate-only`, "false"),
      add("/spec/containers/0/env", [dirEnv, filePrefixEnv])
    ])
  })

  it("vaultSecretManager.role replaces the default role flyte", () => {
    const ops = opsFor(configDoc({ secretManagerType: "Vault", vaultSecretManager: { role: "team-a" } }), pod(), [
      secret({ group: "kv/app", groupVersion: "kv2", key: "token" })
    ])
    assert.deepInclude(ops, add(`${V}role`, "team-a"))
  })

  it("a Pod without an annotations map gets the whole map in one op", () => {
    const bare = pod()
    delete (bare["metadata"] as Record<string, unknown>)["annotations"]
    const ops = opsFor(configDoc({ secretManagerType: "Vault" }), bare, [secret({ group: "kv/app", groupVersion: "kv2", key: "token" })])
    assert.deepStrictEqual(ops[0], add("/metadata/annotations", {
      [`vault.hashicorp.com/agent-inject-secret-${id}`]: "kv/app",
      [`vault.hashicorp.com/agent-inject-file-${id}`]: "kv/app/token",
      [`vault.hashicorp.com/agent-inject-template-${id}`]: '{{- with secret "kv/app" -}}{{ .Data.data.token }}{{- end -}}',
      "vault.hashicorp.com/agent-inject": "true",
      "vault.hashicorp.com/secret-volume-path": DIR,
      "vault.hashicorp.com/role": "flyte",
      "vault.hashicorp.com/agent-pre-populate-only": "true"
    }))
  })
})

describe("resolution order (spec section 2)", () => {
  const managerOf = (webhook: Record<string, unknown>, request: SecretRequest, env: Record<string, string> = {}) => {
    const result = resolve(lookupFor(configDoc(webhook), env), request)
    return Result.isSuccess(result) ? result.success.manager : `failed: ${JSON.stringify(result.failure.attempts)}`
  }
  const fileSecret = secret({ group: "g", key: "k", mountRequirement: "FILE" })
  const envSecret = secret({ group: "g", key: "k", mountRequirement: "ENV_VAR" })

  it("Global is tried first whatever the configured list", () => {
    assert.strictEqual(managerOf({ secretManagerTypes: ["Vault", "K8s"] }, envSecret, { FLYTE_SECRET_G_K: "v" }), "Global")
  })
  it("then the list in order: the first that injects wins", () => {
    assert.strictEqual(managerOf({ secretManagerTypes: ["Vault", "K8s"] }, fileSecret), "Vault")
    assert.strictEqual(managerOf({ secretManagerTypes: ["K8s", "Vault"] }, fileSecret), "K8s")
  })
  it("a manager that cannot serve the request hands it to the next one", () => {
    assert.strictEqual(managerOf({ secretManagerTypes: ["Vault", "AWS", "K8s"] }, envSecret), "K8s")
  })
  it("the default manager is K8s; a single secretManagerType is honoured", () => {
    assert.strictEqual(managerOf({}, fileSecret), "K8s")
    assert.strictEqual(managerOf({ secretManagerType: "AWS" }, fileSecret), "AWS")
  })
})

describe("annotation order and determinism (ours)", () => {
  const envSecret = (group: string) => encodeSecret(secret({ group, key: "k", mountRequirement: "ENV_VAR" }))
  const patchFor = (annotations: Record<string, string>, webhook: Record<string, unknown> = {}) =>
    patchOf(Effect.runSync(reviewWith(review(pod({ annotations })), configDoc(webhook))).review)

  it("s2 is processed before s10, then non-numeric suffixes in string order", () => {
    const ops = patchFor({
      "flyte.secrets/sx": envSecret("x"),
      "flyte.secrets/s10": envSecret("ten"),
      "flyte.secrets/s2": envSecret("two")
    })
    assert.deepStrictEqual(ops, [
      add("/spec/containers/0/env", [
        secretRef("_FSEC_TWO_K", "two", "k"),
        prefixEnv,
        secretRef("_FSEC_TEN_K", "ten", "k"),
        secretRef("_FSEC_X_K", "x", "k")
      ])
    ])
  })

  it("the same input twice gives the identical patch, Vault ids included", () => {
    const annotations = {
      "flyte.secrets/s0": encodeSecret(secret({ group: "kv/app", groupVersion: "kv2", key: "token" })),
      "flyte.secrets/s1": encodeSecret(secret({ group: "kv/app", groupVersion: "kv2", key: "other" }))
    }
    const first = patchFor(annotations, { secretManagerType: "Vault" })
    const second = patchFor(annotations, { secretManagerType: "Vault" })
    assert.deepStrictEqual(second, first)
    const keys = (first ?? []).map((op) => String(op["path"]))
    assert.include(keys, "/metadata/annotations/vault.hashicorp.com~1agent-inject-secret-5d833299-b98a-2883-4311-8a04395961ae")
    assert.include(keys, "/metadata/annotations/vault.hashicorp.com~1agent-inject-secret-14b53b77-2427-4f00-863b-db0eee5e1a0c")
  })
})
