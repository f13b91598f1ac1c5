/**
 * CaBundle: the CA bundle the API server must trust for this webhook (`ca.crt`), as the Registrar publishes it
 * in `caBundle`. Every replica reads the same shared copy (the mounted Secret's `ca.crt`, or the Secret through
 * the API), never a per-process CA, so replicas register identical content and converge (Flyte's webhook made
 * a CA per process; replicas then overwrote each other's caBundle and calls failed with "x509: certificate
 * signed by unknown authority").
 */
import { Context, Data, Effect, Layer, Ref } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { WebhookConfig } from "../../WebhookConfig.ts"
import { joinPem, splitPem } from "./Pem.ts"

/** CaBundleError: no usable bundle right now (file missing, empty, no certificate in it). */
export class CaBundleError extends Data.TaggedError("CaBundleError")<{ readonly message: string }> {}

export interface CaBundleShape {
  /** current: the PEM bundle now, normalised (one newline after each certificate). */
  readonly current: Effect.Effect<string, CaBundleError>
}

/** normaliseBundle keeps the certificate blocks only, so formatting never looks like a CA change. */
export const normaliseBundle = (text: string, source: string): Effect.Effect<string, CaBundleError> => {
  const pems = splitPem(text)
  return pems.length === 0
    ? Effect.fail(new CaBundleError({ message: `${source} holds no PEM certificate` }))
    : Effect.succeed(joinPem(pems))
}

export class CaBundle extends Context.Service<CaBundle, CaBundleShape>()("flyte-pod-webhook/services/certs/CaBundle") {
  /** layerFiles: `ca.crt` in webhook.certDir, read on each call (a small local file; kubelet updates it). */
  static readonly layerFiles = Layer.effect(
    CaBundle,
    Effect.gen(function*() {
      const { webhook } = yield* WebhookConfig
      const file = path.join(webhook.certDir, "ca.crt")
      return CaBundle.of({
        current: Effect.try({
          try: () => fs.readFileSync(file, "utf8"),
          catch: (cause) => new CaBundleError({ message: `cannot read ${file}: ${(cause as Error).message}` })
        }).pipe(Effect.flatMap((text) => normaliseBundle(text, file)))
      })
    })
  )

  /** fromRef: a bundle held in memory by its owner (the Secret-backed source, tests). */
  static readonly fromRef = (ref: Ref.Ref<string>): CaBundleShape => ({
    current: Ref.get(ref).pipe(Effect.flatMap((text) => normaliseBundle(text, "ca.crt")))
  })

  /** layerTest: a bundle a test can change through the returned Ref. */
  static readonly layerTest = (ref: Ref.Ref<string>) => Layer.succeed(CaBundle, CaBundle.fromRef(ref))
}
