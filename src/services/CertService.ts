/**
 * CertService: owns the webhook's certificate Secret (`webhook.secretName` in POD_NAMESPACE): creates it, keeps
 * it valid and rotates it without downtime (policy in certs/RotationPolicy.ts, issuing in certs/Issuer.ts).
 *
 * `ensureSecret` is one reconciliation, safe to run from any number of processes at once: it reads the
 * Secret, plans at the current time, and writes only when the plan changes something, with a plain create
 * (two creators: one wins, the other gets AlreadyExists, re-reads and finds the winner's valid Secret) or an
 * update carrying the resourceVersion it read (a concurrent writer makes it Conflict; it re-reads and re-plans).
 * `watch` runs it now and every `checkInterval` on the Effect clock (so TestClock drives rotation in tests).
 */
import { Clock, Context, Duration, Effect, Layer } from "effect"
import { type KubeError } from "../kube/KubeErrors.ts"
import { KubeClient } from "../kube/KubeClient.ts"
import type { Secret } from "../kube/KubeTypes.ts"
import { WebhookConfig, type WebhookConfigShape } from "../WebhookConfig.ts"
import { type CertMaterial, EmptyMaterial, fromSecretData, toSecretData } from "./certs/CertMaterial.ts"
import type { IssueError } from "./certs/Issuer.ts"
import { type IssueSettings, type Renewal, renewMaterial } from "./certs/Renewal.ts"

export interface RotationTiming {
  /** How often a running webhook re-checks the Secret. Default 5 minutes. */
  readonly checkInterval: Duration.Input
  /** How long a change takes to reach every replica and the caBundle (kubelet sync ~1-2 min). Default 1 hour. */
  readonly propagationGrace: Duration.Input
}

export const DefaultTiming: RotationTiming = { checkInterval: "5 minutes", propagationGrace: "1 hour" }

export interface SecretOutcome {
  readonly action: "created" | "updated" | "unchanged"
  readonly material: CertMaterial
  readonly reasons: ReadonlyArray<string>
  /** Reads of the Secret it took (more than 1 after losing a race). */
  readonly attempts: number
}

export interface CertServiceShape {
  readonly settings: IssueSettings
  readonly namespace: string
  readonly secretName: string
  /** renew: the rotation plan for `material` at `now`, carried out. */
  readonly renew: (material: CertMaterial, now: Date) => Effect.Effect<Renewal, IssueError>
  /** ensureSecret: bring the Secret up to date (create, renew or leave it), surviving concurrent writers. */
  readonly ensureSecret: Effect.Effect<SecretOutcome, KubeError | IssueError>
  /** watch: ensureSecret now and every checkInterval, handing each outcome to `onOutcome`; never fails. */
  readonly watch: (onOutcome: (outcome: SecretOutcome) => Effect.Effect<void>) => Effect.Effect<never>
}

const MaxAttempts = 5

const SecretLabels = {
  "app.kubernetes.io/name": "flyte-pod-webhook",
  "app.kubernetes.io/component": "certificates",
  "app.kubernetes.io/managed-by": "flyte-pod-webhook"
}

/** issueSettings: the rotation and key settings from the webhook config. */
export const issueSettings = (config: WebhookConfigShape, timing: RotationTiming): IssueSettings => ({
  serviceName: config.webhook.serviceName,
  namespace: config.podNamespace,
  extraSANs: config.webhook.extraSANs,
  caValidityDays: config.webhook.caValidityDays,
  servingValidityDays: config.webhook.servingValidityDays,
  caKeySize: config.webhook.caKeySize,
  servingKeySize: config.webhook.servingKeySize,
  propagationGraceMs: Duration.toMillis(timing.propagationGrace)
})

const make = (timing: RotationTiming) =>
  Effect.gen(function*() {
    const config = yield* WebhookConfig
    const kube = yield* KubeClient
    const settings = issueSettings(config, timing)
    const namespace = config.podNamespace
    const secretName = config.webhook.secretName
    const renew = (material: CertMaterial, now: Date) => renewMaterial(material, now, settings)

    const readSecret = kube.getSecret(namespace, secretName).pipe(
      Effect.map((secret): Secret | undefined => secret),
      Effect.catchTag("NotFound", () => Effect.succeed(undefined))
    )

    const write = (current: Secret | undefined, material: CertMaterial) =>
      current === undefined
        ? kube.createSecret(namespace, {
          apiVersion: "v1",
          kind: "Secret",
          metadata: { name: secretName, namespace, labels: SecretLabels },
          type: "Opaque",
          data: toSecretData(material)
        })
        : kube.replaceSecret(namespace, { ...current, data: toSecretData(material, current.data) })

    const attempt = (n: number): Effect.Effect<SecretOutcome, KubeError | IssueError> =>
      Effect.gen(function*() {
        const current = yield* readSecret
        const now = new Date(yield* Clock.currentTimeMillis)
        const renewal = yield* renew(current === undefined ? EmptyMaterial : fromSecretData(current.data), now)
        const base = { material: renewal.material, reasons: renewal.reasons, attempts: n }
        if (!renewal.changed) return { ...base, action: "unchanged" as const }
        yield* write(current, renewal.material)
        return { ...base, action: current === undefined ? "created" as const : "updated" as const }
      }).pipe(
        Effect.catchTag(["AlreadyExists", "Conflict"], (lost) =>
          n >= MaxAttempts
            ? Effect.fail(lost)
            : Effect.logInfo(`certificate Secret changed under us (${lost._tag}); re-reading`).pipe(
              Effect.andThen(attempt(n + 1))
            ))
      )

    const ensureSecret = attempt(1).pipe(
      Effect.withSpan("CertService.ensureSecret"),
      Effect.annotateLogs({ secret: `${namespace}/${secretName}` })
    )

    const watch = (onOutcome: (outcome: SecretOutcome) => Effect.Effect<void>): Effect.Effect<never> =>
      ensureSecret.pipe(
        Effect.tap((outcome) =>
          outcome.action === "unchanged"
            ? Effect.logDebug("certificate Secret checked: unchanged")
            : Effect.logInfo(`certificate Secret ${outcome.action}`).pipe(
              Effect.annotateLogs({ reasons: outcome.reasons.join("; ") })
            )
        ),
        Effect.flatMap(onOutcome),
        Effect.catch((error) =>
          Effect.logWarning(`certificate Secret not checked: ${error.message}`).pipe(
            Effect.annotateLogs({ secret: `${namespace}/${secretName}`, error: error._tag })
          )
        ),
        // a bug must not end rotation for good (certificates would then expire): log it, try again next time
        Effect.catchDefect((defect) => Effect.logError("certificate Secret check crashed; retrying at the next check", defect)),
        Effect.andThen(Effect.sleep(timing.checkInterval)),
        Effect.forever
      )

    return CertService.of({ settings, namespace, secretName, renew, ensureSecret, watch })
  })

export class CertService extends Context.Service<CertService, CertServiceShape>()(
  "flyte-pod-webhook/services/CertService"
) {
  /** layer: needs WebhookConfig and KubeClient. */
  static readonly layer = Layer.effect(CertService, make(DefaultTiming))

  /** layerWith: other timings (tests: short grace and interval). */
  static readonly layerWith = (timing: RotationTiming) => Layer.effect(CertService, make(timing))
}
