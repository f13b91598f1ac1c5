/**
 * `init-certs`: make sure the certificate Secret (`webhook.secretName` in POD_NAMESPACE) holds a valid CA and
 * serving certificate: create it when absent, renew what is due or wrong (with the same CA while it is good),
 * leave a valid one untouched (no write). Safe to run concurrently and repeatedly (CertService.ensureSecret).
 * With `webhook.localCert: true` it also writes the four files into `webhook.certDir` (keys mode 0600).
 *
 * Prints what it did: the action, why, and each certificate's subject, SANs, validity and SHA-256
 * fingerprint; never key material. Exit codes: 0 done (created, updated or unchanged); 1 the API server
 * refused or could not be reached after retries (the message names the missing RBAC rule when forbidden), or
 * the files could not be written; 2 the config or the Kubernetes credentials cannot be read.
 */
import { Console, Effect, Layer, Logger, Option, References } from "effect"
import { CommandCallPolicy, KubeClient } from "../kube/KubeClient.ts"
import { CertService, type SecretOutcome } from "../services/CertService.ts"
import { type CertMaterial, writeMaterialFiles } from "../services/certs/CertMaterial.ts"
import { describeCert, splitPem, viewCert } from "../services/certs/Pem.ts"
import { WebhookConfig, type WebhookConfigShape } from "../WebhookConfig.ts"
import { configMessage, exitWith } from "./CliExit.ts"
import type { ConfigOnlyInput } from "./Flags.ts"

/** describeMaterial: one line per certificate, key-free. */
export const describeMaterial = (material: CertMaterial): ReadonlyArray<string> => {
  const cas = splitPem(material.caCrt)
  const line = (label: string, pem: string) => {
    const view = viewCert(pem)
    return `  ${label}: ${typeof view === "string" ? view : describeCert(view)}`
  }
  return [
    ...cas.map((pem, index) => line(`CA ${index + 1}/${cas.length}`, pem)),
    ...splitPem(material.tlsCrt).slice(0, 1).map((pem) => line("serving", pem))
  ]
}

const report = (settings: WebhookConfigShape, outcome: SecretOutcome) =>
  Console.log(
    [
      `init-certs: Secret ${settings.podNamespace}/${settings.webhook.secretName} ${outcome.action}` +
      (outcome.attempts > 1 ? ` (after ${outcome.attempts} reads: another writer was first)` : ""),
      ...outcome.reasons.map((reason) => `  reason: ${reason}`),
      ...describeMaterial(outcome.material)
    ].join("\n")
  )

/** logLayer: JSON log lines on stderr (stdout carries the report). */
const logLayer = Layer.mergeAll(Logger.layer([Logger.consoleJson]), Layer.succeed(References.LogToStderr, true))

/** initCerts: the handler of `flyte-pod-webhook init-certs` (listed in src/Cli.ts). */
export const initCerts = ({ config }: ConfigOnlyInput) =>
  Effect.gen(function*() {
    const settings = yield* WebhookConfig.load(Option.getOrUndefined(config)).pipe(
      Effect.catchTag("ConfigError", (e) => exitWith(2, configMessage(e)))
    )
    const outcome = yield* CertService.use((certs) => certs.ensureSecret).pipe(
      Effect.provide(CertService.layer.pipe(Layer.provide([KubeClient.layerWith(CommandCallPolicy), Layer.succeed(WebhookConfig, settings)]))),
      Effect.catchTags({
        KubeConfigError: (e) => exitWith(2, `init-certs: ${e.message}`),
        Forbidden: (e) => exitWith(1, `init-certs: ${e.message}`),
        Unavailable: (e) => exitWith(1, `init-certs: ${e.message}`),
        NotFound: (e) => exitWith(1, `init-certs: ${e.message}`),
        Conflict: (e) => exitWith(1, `init-certs: gave up after repeated concurrent changes: ${e.message}`),
        AlreadyExists: (e) => exitWith(1, `init-certs: gave up after repeated concurrent changes: ${e.message}`),
        Rejected: (e) => exitWith(1, `init-certs: ${e.message}`),
        IssueError: (e) => exitWith(1, `init-certs: ${e.message}`)
      })
    )
    yield* report(settings, outcome)
    if (settings.webhook.localCert) {
      yield* writeMaterialFiles(settings.webhook.certDir, outcome.material).pipe(
        Effect.catchTag("CertFilesError", (e) => exitWith(1, `init-certs: ${e.message}`))
      )
      yield* Console.log(`  files: ca.crt, ca.key, tls.crt, tls.key written to ${settings.webhook.certDir} (keys mode 0600)`)
    }
  }).pipe(Effect.provide(logLayer))
