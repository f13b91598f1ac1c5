/**
 * ClientCaFile: the CA bundle whose client certificates the admission listener accepts (`webhook.clientCAFile`;
 * client-certificate authentication of the API server, docs/security.md). Read once at start, failing fast when
 * it is unreadable or holds no certificate, then followed like the serving certificate (FolderWatch.ts: a watch
 * on its folder plus a poll every 10 s), so a rotated CA is picked up without a restart. Identical bytes are no
 * reload; a new bundle that does not parse keeps the current one, with a warning saying why.
 */
import { Context, Data, Effect, Layer, Option, type Scope, Stream, SubscriptionRef } from "effect"
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { WebhookConfig } from "../WebhookConfig.ts"
import { type FollowOptions, followFolder } from "./FolderWatch.ts"

/** ClientCaError: the client CA bundle cannot be used; `reason` says why. */
export class ClientCaError extends Data.TaggedError("ClientCaError")<{ readonly reason: string }> {}

/** ClientCa: a checked bundle, with what logs and messages say about it. */
export interface ClientCa {
  readonly pem: Buffer
  /** SHA-256 fingerprints and subjects of the certificates, for logs. */
  readonly certificates: ReadonlyArray<string>
}

export interface ClientCaShape {
  /** The bundle in use, or none when `webhook.clientCAFile` is not set (no client certificate is asked for). */
  readonly current: Effect.Effect<Option.Option<ClientCa>>
  /** Each new bundle as it is loaded (not the first). */
  readonly changes: Stream.Stream<ClientCa>
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g

/** parseBundle checks that every certificate block of a PEM bundle parses, and that there is at least one. */
export const parseBundle = (pem: Buffer, file: string): ClientCa => {
  const blocks = pem.toString("utf8").match(PEM_BLOCK) ?? []
  if (blocks.length === 0) throw new ClientCaError({ reason: `${file} holds no PEM certificate` })
  const certificates = blocks.map((block, index) => {
    try {
      const cert = new crypto.X509Certificate(block)
      return `${cert.subject.replace(/\n/g, ", ")} (sha256 ${cert.fingerprint256})`
    } catch (cause) {
      throw new ClientCaError({ reason: `${file}: certificate ${index + 1} does not parse: ${(cause as Error).message}` })
    }
  })
  return { pem, certificates }
}

const read = (file: string): Effect.Effect<ClientCa, ClientCaError> =>
  Effect.try({
    try: () => parseBundle(fs.readFileSync(file), file),
    catch: (cause) =>
      cause instanceof ClientCaError ? cause : new ClientCaError({ reason: `cannot read ${file}: ${(cause as Error).message}` })
  })

/** watchClientCa loads `file` and keeps following it for the life of the scope. */
export const watchClientCa = (
  file: string,
  options: FollowOptions = {}
): Effect.Effect<ClientCaShape, ClientCaError, Scope.Scope> =>
  Effect.gen(function*() {
    const initial = yield* read(file)
    yield* Effect.logInfo("client CA bundle loaded").pipe(Effect.annotateLogs({ file, certificates: initial.certificates }))
    const ref = yield* SubscriptionRef.make(initial)
    const reload = Effect.gen(function*() {
      const current = yield* SubscriptionRef.get(ref)
      const next = yield* read(file)
      if (next.pem.equals(current.pem)) return
      yield* SubscriptionRef.set(ref, next)
      yield* Effect.logInfo("client CA bundle reloaded").pipe(Effect.annotateLogs({ file, certificates: next.certificates }))
    }).pipe(
      Effect.catchTag("ClientCaError", (e) =>
        Effect.logWarning("client CA bundle not reloaded; keeping the current one").pipe(
          Effect.annotateLogs({ file, reason: e.reason })
        ))
    )
    yield* followFolder(path.dirname(file), reload, options)
    return {
      current: Effect.map(SubscriptionRef.get(ref), Option.some),
      changes: Stream.drop(SubscriptionRef.changes(ref), 1)
    }
  })

export class ClientCaFile extends Context.Service<ClientCaFile, ClientCaShape>()("flyte-pod-webhook/services/ClientCaFile") {
  /** layer: `webhook.clientCAFile`, followed; none when it is not set. */
  static readonly layer: Layer.Layer<ClientCaFile, ClientCaError, WebhookConfig> = Layer.effect(
    ClientCaFile,
    Effect.gen(function*() {
      const { webhook } = yield* WebhookConfig
      return webhook.clientCAFile === undefined ? ClientCaFile.none : yield* watchClientCa(webhook.clientCAFile)
    })
  )

  /** none: client certificates are not asked for. */
  static readonly none: ClientCaShape = { current: Effect.succeed(Option.none()), changes: Stream.empty }

  /** layerTest: a fixed bundle (or none). */
  static readonly layerTest = (pem: Buffer | undefined) =>
    Layer.succeed(
      ClientCaFile,
      pem === undefined
        ? ClientCaFile.none
        : { current: Effect.succeed(Option.some(parseBundle(pem, "<test>"))), changes: Stream.empty }
    )
}
