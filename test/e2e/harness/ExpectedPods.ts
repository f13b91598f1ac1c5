/**
 * ExpectedPods: the Pods of scenario 3, before and after, written out by hand from spec section 3 (never
 * computed by the code under test). The test Pod has an init container without env or mounts and a container
 * with one env var, so both "add the whole list" and "append to a list" are exercised.
 */
import { flyteBase32, type Secret, secretAnnotations } from "./FlyteSecret.ts"

export const DIR = "/etc/flyte/secrets"
export const prefixEnv = { name: "FLYTE_SECRETS_ENV_PREFIX", value: "_FSEC_" }
export const dirEnv = { name: "FLYTE_SECRETS_DEFAULT_DIR", value: DIR }
export const filePrefixEnv = { name: "FLYTE_SECRETS_FILE_PREFIX", value: "" }
export const defaultResources = { requests: { cpu: "200m", memory: "500Mi" }, limits: { cpu: "200m", memory: "500Mi" } }

export type Json = Record<string, any>

/** inputPod: the labelled test Pod asking for `secrets`. */
export const inputPod = (name: string, secrets: ReadonlyArray<Secret>, labels: Json = { "inject-flyte-secrets": "true" }): Json => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, labels, annotations: secretAnnotations(secrets) },
  spec: {
    initContainers: [{ name: "init", image: "busybox" }],
    containers: [{ name: "main", image: "flytekit", env: [{ name: "EXISTING", value: "1" }] }]
  }
})

/** generatedPod: a labelled controller-style Pod (generateName, one container) asking for one secret. */
export const generatedPod = (generateName: string, secret: Secret): Json => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { generateName, labels: { "inject-flyte-secrets": "true" }, annotations: secretAnnotations([secret]) },
  spec: { containers: [{ name: "main", image: "busybox" }] }
})

/** hasEnv: whether the stored Pod's first container got the env var `name`. */
export const hasEnv = (pod: Json, name: string): boolean =>
  (pod?.["spec"]?.containers?.[0]?.env ?? []).some((e: Json) => e["name"] === name)

export interface Edits {
  /** Env vars and mounts added to every container and init container. */
  readonly env?: ReadonlyArray<Json>
  readonly mounts?: ReadonlyArray<Json>
  readonly volumes?: ReadonlyArray<Json>
  /** Init containers appended after the existing one. */
  readonly pullers?: ReadonlyArray<Json>
  readonly annotations?: Json
}

/**
 * expectedPod: `input` with the edits, and without the inject label (so the API server does not send it to
 * the webhook when the test asks it to default this Pod with a dry run).
 */
export const expectedPod = (input: Json, edits: Edits): Json => {
  const withEdits = (container: Json): Json => {
    const env = [...(container["env"] ?? []), ...(edits.env ?? [])]
    const mounts = [...(container["volumeMounts"] ?? []), ...(edits.mounts ?? [])]
    return { ...container, ...(env.length > 0 ? { env } : {}), ...(mounts.length > 0 ? { volumeMounts: mounts } : {}) }
  }
  const { labels: _labels, ...metadata } = input["metadata"]
  return {
    ...input,
    metadata: { ...metadata, annotations: { ...metadata.annotations, ...edits.annotations } },
    spec: {
      ...input["spec"],
      initContainers: [...input["spec"].initContainers.map(withEdits), ...(edits.pullers ?? [])],
      containers: input["spec"].containers.map(withEdits),
      ...(edits.volumes === undefined ? {} : { volumes: edits.volumes })
    }
  }
}

export const secretRef = (name: string, group: string, key: string) => ({
  name,
  valueFrom: { secretKeyRef: { name: group, key, optional: true } }
})

/** k8sVolumeName: B32(group + "_" + group_version), spec section 3. */
export const k8sVolumeName = (group: string, groupVersion = "") => flyteBase32(new TextEncoder().encode(`${group}_${groupVersion}`))

export const AwsGroup = "arn:aws:secretsmanager:us-east-1:123456789012:secret"
export const AzureGroup = "https://myvault.vault.azure.net/secrets/Db-Pass"

const memoryVolume = (name: string) => ({ name, emptyDir: { medium: "Memory" } })
const readOnlyDir = (name: string) => ({ name, readOnly: true, mountPath: DIR })

export const awsEdits = (key: string): Edits => ({
  env: [dirEnv, filePrefixEnv],
  mounts: [readOnlyDir("aws-secret-vol")],
  volumes: [memoryVolume("aws-secret-vol")],
  pullers: [{
    name: "aws-pull-secret-1",
    image: "docker.io/amazon/aws-secrets-manager-secret-sidecar:v0.1.4",
    resources: defaultResources,
    env: [{ name: "SECRET_ARN", value: `${AwsGroup}:${key}` }, { name: "SECRET_FILENAME", value: `/${AwsGroup}/${key.toLowerCase()}` }, dirEnv, filePrefixEnv],
    volumeMounts: [{ name: "aws-secret-vol", mountPath: "/tmp" }]
  }]
})

export const gcpEdits = (): Edits => ({
  env: [dirEnv, filePrefixEnv],
  mounts: [readOnlyDir("gcp-secret-vol")],
  volumes: [memoryVolume("gcp-secret-vol")],
  pullers: [{
    name: "gcp-pull-secret-1",
    image: "gcr.io/google.com/cloudsdktool/cloud-sdk:alpine",
    command: [
      "sh",
      "-ec",
      "gcloud secrets versions access Db-Pass/versions/Latest --out-file=/etc/flyte/secrets/db-pass/latest || " +
      "gcloud secrets versions access Latest --secret=Db-Pass --out-file=/etc/flyte/secrets/db-pass/latest; " +
      "chmod +rX /etc/flyte/secrets/db-pass /etc/flyte/secrets/db-pass/latest"
    ],
    resources: defaultResources,
    volumeMounts: [{ name: "gcp-secret-vol", mountPath: DIR }],
    env: [dirEnv, filePrefixEnv]
  }]
})

export const azureEdits = (): Edits => ({
  env: [dirEnv, filePrefixEnv],
  mounts: [readOnlyDir("azure-secret-vol")],
  volumes: [memoryVolume("azure-secret-vol")],
  pullers: [{
    name: "azure-pull-secret-1",
    image: "mcr.microsoft.com/azure-cli:cbl-mariner2.0",
    command: [
      "sh",
      "-ec",
      'az login --service-principal -u "$AZURE_CLIENT_ID" -t "$AZURE_TENANT_ID" ' +
      '--federated-token "$(cat "$AZURE_FEDERATED_TOKEN_FILE")" --allow-no-subscriptions >/dev/null; ' +
      `mkdir -p /etc/flyte/secrets/db-pass; az keyvault secret show --id "${AzureGroup}/0123ABC" --query value -o tsv > /etc/flyte/secrets/db-pass/0123abc; ` +
      "chmod +rX /etc/flyte/secrets/db-pass /etc/flyte/secrets/db-pass/0123abc"
    ],
    resources: defaultResources,
    volumeMounts: [{ name: "azure-secret-vol", mountPath: DIR }],
    env: [dirEnv, filePrefixEnv]
  }]
})

/** vaultEdits: kv/app, group_version kv1, key token; the id is the stable one spec section 3 ("ours") promises. */
export const vaultEdits = (): Edits => {
  const id = "df18adec-313b-70af-0591-7e9b08210f3f"
  const v = "vault.hashicorp.com"
  return {
    env: [dirEnv, filePrefixEnv],
    annotations: {
      [`${v}/agent-inject-secret-${id}`]: "kv/app",
      [`${v}/agent-inject-file-${id}`]: "kv/app/token",
      [`${v}/agent-inject-template-${id}`]: '{{- with secret "kv/app" -}}{{ .Data.token }}{{- end -}}',
      [`${v}/agent-inject`]: "true",
      [`${v}/secret-volume-path`]: DIR,
      [`${v}/role`]: "flyte",
      [`${v}/agent-pre-populate-only`]: "true"
    }
  }
}
