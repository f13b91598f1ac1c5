/**
 * `doctor`: checks a live installation from outside, read-only, with the caller's Kubernetes credentials and
 * the webhook's config file (`--config`, as the replicas mount it; POD_NAMESPACE names the install namespace):
 *   1. the MutatingWebhookConfiguration matches the config (DoctorRegistration.ts);
 *   2. its caBundle verifies the serving certificate, days left (DoctorCertificates.ts);
 *   3. the Service has ready endpoints (DoctorEndpoints.ts);
 *   4. the webhook's ServiceAccount has exactly the documented permissions (DoctorAccess.ts);
 *   5. a dry-run Pod in `--namespace` gets what the offline engine says (DoctorEndToEnd.ts).
 * Each check is a pure function over what KubeClient read, so each is unit-tested against the in-memory API
 * server. Prints text (or `-o json`); exit 0 all passed, 1 a problem found, 2 something could not be checked
 * (DoctorReport.ts). Nothing is written: the only create is a dry run.
 */
import { Console, Effect, Layer, Logger, Option, References } from "effect"
import { Mutator } from "../admission/Mutator.ts"
import { KubeClient } from "../kube/KubeClient.ts"
import type { MutatingWebhookConfiguration } from "../kube/KubeTypes.ts"
import { WebhookConfig, type WebhookConfigShape } from "../WebhookConfig.ts"
import { exitWith } from "./CliExit.ts"
import { accessCheck } from "./DoctorAccess.ts"
import { certificateCheck } from "./DoctorCertificates.ts"
import { endpointCheck } from "./DoctorEndpoints.ts"
import { endToEndCheck } from "./DoctorEndToEnd.ts"
import { liveWebhook, registrationCheck } from "./DoctorRegistration.ts"
import { type CheckResult, check, renderJson, renderText, report, type Report, unknown } from "./DoctorReport.ts"
import type { DoctorInput } from "./Flags.ts"

/** diagnose: the five checks, in order, against the KubeClient and Mutator in context. */
export const diagnose = (settings: WebhookConfigShape, namespace: string) =>
  Effect.gen(function*() {
    const kube = yield* KubeClient
    const mutator = yield* Mutator
    const name = settings.webhook.serviceName
    const live = yield* kube.getWebhookConfiguration(name).pipe(
      Effect.map((found): MutatingWebhookConfiguration | undefined => found),
      Effect.catchTag("NotFound", () => Effect.succeed(undefined)),
      Effect.result
    )
    if (live._tag === "Failure") {
      const e = live.failure
      const cannot = (id: number, title: string): CheckResult =>
        check(id, title, [
          e._tag === "Forbidden"
            ? unknown(`MutatingWebhookConfiguration ${name} not read: forbidden`, e.hint)
            : unknown(`MutatingWebhookConfiguration ${name} not read: ${e.message}`, "is the API server reachable with these credentials?")
        ])
      return report(name, namespace, [cannot(1, "MutatingWebhookConfiguration matches the config"), cannot(2, "caBundle verifies the serving certificate"), yield* endpointCheck(kube, settings, undefined), yield* accessCheck(kube, settings), cannot(5, "dry-run Pod gets what the offline engine says")])
    }
    const webhook = liveWebhook(live.success)
    return report(name, namespace, [
      registrationCheck(settings, live.success),
      yield* certificateCheck(kube, settings, webhook),
      yield* endpointCheck(kube, settings, webhook),
      yield* accessCheck(kube, settings),
      yield* endToEndCheck(kube, mutator, namespace, webhook)
    ])
  })

/** logLayer: logs (client retries) as JSON on stderr, warnings only: stdout carries the report. */
const logLayer = Layer.mergeAll(
  Logger.layer([Logger.consoleJson]),
  Layer.succeed(References.LogToStderr, true),
  Layer.succeed(References.MinimumLogLevel, "Warn")
)

const print = (result: Report, output: "text" | "json") => Console.log(output === "json" ? renderJson(result) : renderText(result))

/** doctor: the handler of `flyte-pod-webhook doctor` (flags in Flags.ts, listed in src/Cli.ts). */
export const doctor = ({ config, namespace, output }: DoctorInput) =>
  Effect.gen(function*() {
    const settings = yield* WebhookConfig.load(Option.getOrUndefined(config)).pipe(
      Effect.catchTag("ConfigError", (e) => exitWith(2, `config: ${e.message}`))
    )
    const result = yield* diagnose(settings, namespace).pipe(
      Effect.provide(Layer.mergeAll(KubeClient.layer, Mutator.layer).pipe(Layer.provide(Layer.succeed(WebhookConfig, settings)))),
      Effect.catchTag("KubeConfigError", (e) => exitWith(2, `doctor: ${e.message}`)),
      Effect.catchTag("ConfigError", (e) => exitWith(2, `config: ${e.message}`))
    )
    yield* print(result, output)
    if (result.exitCode !== 0) {
      return yield* exitWith(result.exitCode, result.exitCode === 1 ? "doctor: problems found" : "doctor: some checks could not run")
    }
  }).pipe(Effect.provide(logLayer))
