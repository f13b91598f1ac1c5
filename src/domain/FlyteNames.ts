/**
 * FlyteNames: the names Flyte's webhook and flytekit agree on (flytepropeller `pkg/webhook`, flytekit
 * `secrets.py`). Changing any of them breaks tasks that read their secrets, so they live in one place.
 */

/** Label that selects Pods for injection (objectSelector of the MutatingWebhookConfiguration). */
export const InjectLabel = "inject-flyte-secrets"
/** Prefix of the per-secret annotations `flyte.secrets/s<N>`. */
export const SecretAnnotationPrefix = "flyte.secrets/s"
/** Folder flytekit reads mounted secrets from: `<dir>/<group>/<key>`, lower-cased. */
export const SecretsDir = "/etc/flyte/secrets"
/** Prefix of injected secret env vars: `_FSEC_<GROUP>_<KEY>`. */
export const EnvVarPrefix = "_FSEC_"
/** Env var telling flytekit the env prefix. */
export const EnvPrefixVar = "FLYTE_SECRETS_ENV_PREFIX"
/** Env var telling flytekit the secrets folder. */
export const DefaultDirVar = "FLYTE_SECRETS_DEFAULT_DIR"
/** Env var telling flytekit the file name prefix (always empty: files are named after keys). */
export const FilePrefixVar = "FLYTE_SECRETS_FILE_PREFIX"
/** Audit annotation listing the secrets the Pod gets (stored as `<webhook name>/injected-secrets`). */
export const InjectedSecretsAudit = "injected-secrets"
/**
 * Audit annotation listing secrets the Pod asked for but shadows with env vars of its own of the same name, when
 * such a Pod is admitted (`onInjectionError: admit`); they are not in `injected-secrets`.
 */
export const ShadowedSecretsAudit = "shadowed-secrets"

/** secretEnvName is the env var a secret lands in: UPPER(_FSEC_ + group + "_" + key). */
export const secretEnvName = (group: string, key: string): string => `${EnvVarPrefix}${group}_${key}`.toUpperCase()
