/**
 * DoctorCertificates: doctor's check 2. The registered caBundle verifies the certificate the webhook serves:
 * - as stored: the certificate Secret's `tls.crt` (when these credentials may read it; doctor needs it for
 *   nothing else, and deploy/components/doctor does not grant it, because the Secret holds the keys);
 * - as served: a TLS handshake with the URL of a URL registration, trusting exactly the caBundle; for a
 *   Service registration, a probe AdmissionReview through the API server's service proxy, which shows the
 *   API server reaches the Service but not the certificate (the proxy does not verify; check 5 does).
 * Days left on the serving certificate and on each CA: the webhook renews at two thirds of a certificate's
 * life, so fewer than 30 days left means renewal is not happening.
 */
import { Effect } from "effect"
import type { KubeClientShape } from "../kube/KubeClient.ts"
import type { MutatingWebhook } from "../kube/KubeTypes.ts"
import { type CertMaterial, fromSecretData } from "../services/certs/CertMaterial.ts"
import { type CertView, signedBy, splitPem, viewCert } from "../services/certs/Pem.ts"
import { MutatePath } from "../services/registrar/WebhookManifest.ts"
import type { WebhookConfigShape } from "../WebhookConfig.ts"
import { handshake, type Served } from "./DoctorHandshake.ts"
import { check, type CheckResult, fail, type Finding, pass, skip, unknown, warn } from "./DoctorReport.ts"

export const Title = "caBundle verifies the serving certificate"

const DayMillis = 86_400_000
/** Fewer days than this left on a certificate the webhook renews means renewal is failing. */
export const RenewalOverdueDays = 30

export type StoredFacts = { readonly _tag: "Read"; readonly material: CertMaterial } | { readonly _tag: "Unreadable"; readonly reason: string }

export type ServedFacts =
  | { readonly _tag: "Handshake"; readonly url: string; readonly served: Served }
  | { readonly _tag: "Proxy"; readonly target: string; readonly answered: boolean; readonly forbidden: boolean; readonly message: string }

export interface CertificateFacts {
  readonly now: Date
  readonly caBundlePem: string
  readonly stored: StoredFacts
  readonly served: ServedFacts
}

const name = (cert: CertView) => `sha256 ${cert.fingerprint} (${cert.subject})`
const days = (notAfter: Date, now: Date) => Math.floor((notAfter.getTime() - now.getTime()) / DayMillis)

const lifetime = (label: string, notAfter: Date, now: Date, fix: string): Finding => {
  const left = days(notAfter, now)
  if (left < 0) return fail(`${label} expired on ${notAfter.toISOString()}`, fix)
  if (left < RenewalOverdueDays) return warn(`${label}: ${left} days left (until ${notAfter.toISOString()})`, fix)
  return pass(`${label}: ${left} days left`)
}

const Renew = "the webhook renews its certificates itself; check its logs for `certificate Secret not checked`, or run `flyte-pod-webhook init-certs`"

const storedFindings = (cas: ReadonlyArray<CertView>, stored: StoredFacts, now: Date): ReadonlyArray<Finding> => {
  if (stored._tag === "Unreadable") return [skip(`certificate Secret not read (${stored.reason}); the served certificate is checked instead`)]
  const leaf = viewCert(splitPem(stored.material.tlsCrt)[0] ?? "")
  if (typeof leaf === "string") return [fail(`the Secret's tls.crt is unusable: ${leaf}`, Renew)]
  const secretCas = splitPem(stored.material.caCrt).map(viewCert).filter((v): v is CertView => typeof v !== "string")
  const issuer = secretCas.find((ca) => signedBy(leaf, ca))
  const verified = cas.some((ca) => signedBy(leaf, ca))
  return [
    verified
      ? pass(`the caBundle verifies the Secret's serving certificate ${name(leaf)}`)
      : fail(
        `the caBundle does not verify the serving certificate: caBundle CA ${cas.map(name).join(", ")}; serving certificate ${name(leaf)}, issued by ${leaf.issuer}${issuer === undefined ? "" : ` = the Secret's CA sha256 ${issuer.fingerprint}`}`,
        "the API server refuses every call (x509: certificate signed by unknown authority) until the caBundle holds the serving certificate's CA: the webhook publishes the Secret's ca.crt within webhook.registrationCheckInterval; a tool that writes caBundle (GitOps, a chart, cert-manager's cainjector) must publish the same CA"
      ),
    lifetime("serving certificate", leaf.notAfter, now, Renew)
  ]
}

const servedFindings = (cas: ReadonlyArray<CertView>, served: ServedFacts, now: Date): ReadonlyArray<Finding> => {
  if (served._tag === "Proxy") {
    if (served.answered) return [pass(`the API server reached the webhook through ${served.target} (its proxy does not verify certificates: check 5 makes the verified call)`)]
    return served.forbidden
      ? [skip(`not probed through the service proxy: ${served.message}`)]
      : [warn(`the API server's service proxy could not reach ${served.target}: ${served.message}`, "see check 3 (endpoints) and the webhook's Pods")]
  }
  const { url } = served
  if (served.served._tag === "Unreachable") {
    return [fail(`no TLS handshake with ${url}: ${served.served.message}`, "is a replica listening there? (URL registration: the API server calls this URL directly)")]
  }
  const s = served.served
  const leaf = `sha256 ${s.fingerprint} (${s.subject}, issued by ${s.issuer})`
  return [
    s.authorized
      ? pass(`${url} serves ${leaf}, verified by the caBundle`)
      : fail(
        `${url} serves a certificate the caBundle does not verify (${s.authorizationError ?? "unverified"}): caBundle CA ${cas.map(name).join(", ")}; served certificate ${leaf}`,
        "publish the serving certificate's CA in caBundle (the webhook does so from the Secret's ca.crt), or serve a certificate signed by the registered CA"
      ),
    lifetime("served certificate", s.notAfter, now, Renew)
  ]
}

/** certificateFindings: check 2 over what was read. */
export const certificateFindings = (facts: CertificateFacts): ReadonlyArray<Finding> => {
  const cas = splitPem(facts.caBundlePem).map(viewCert).filter((v): v is CertView => typeof v !== "string")
  if (cas.length === 0) {
    return [fail("the registration's caBundle holds no certificate", "the webhook publishes it from the Secret's ca.crt: check its /readyz and logs")]
  }
  const caLifetimes = cas.map((ca) => lifetime(`CA ${name(ca)}`, ca.notAfter, facts.now, "rotate the CA: `flyte-pod-webhook init-certs` renews what is due (docs/certificates.md)"))
  const stored = storedFindings(cas, facts.stored, facts.now)
  const served = servedFindings(cas, facts.served, facts.now)
  const storedLeaf = facts.stored._tag === "Read" ? viewCert(splitPem(facts.stored.material.tlsCrt)[0] ?? "") : undefined
  const servedLeaf = facts.served._tag === "Handshake" && facts.served.served._tag === "Served" ? facts.served.served : undefined
  const mismatch = storedLeaf !== undefined && typeof storedLeaf !== "string" && servedLeaf !== undefined &&
      storedLeaf.fingerprint !== servedLeaf.fingerprint
    ? [warn(
      `the webhook serves sha256 ${servedLeaf.fingerprint}, the Secret holds sha256 ${storedLeaf.fingerprint}`,
      "a replica has not reloaded yet (it re-reads its files at least every 10 s; the kubelet updates a mounted Secret within about a minute), or it serves other files than the Secret"
    )]
    : []
  const looked = facts.stored._tag === "Read" || (facts.served._tag === "Handshake") || facts.served.answered
  return [
    ...caLifetimes,
    ...stored,
    ...served,
    ...mismatch,
    ...(looked ? [] : [unknown(
      "neither the stored nor the served certificate could be compared with the caBundle",
      "grant get on the certificate Secret, or run doctor where it can reach the webhook; check 5's dry run still shows whether the API server's call verifies"
    )])
  ]
}

const probeReview = {
  apiVersion: "admission.k8s.io/v1",
  kind: "AdmissionReview",
  request: {
    uid: "00000000-0000-0000-0000-00000000d0c7",
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    namespace: "default",
    operation: "CREATE",
    userInfo: { username: "flyte-pod-webhook-doctor" },
    object: { apiVersion: "v1", kind: "Pod", metadata: { name: "flyte-pod-webhook-doctor-probe" }, spec: { containers: [] } },
    oldObject: null,
    dryRun: true
  }
}

/** gatherServed: the handshake (URL registration) or the service-proxy probe (Service registration). */
const gatherServed = (kube: KubeClientShape, webhook: MutatingWebhook, caBundlePem: string): Effect.Effect<ServedFacts> => {
  const { service, url } = webhook.clientConfig
  if (url !== undefined) return Effect.map(handshake(url, caBundlePem, 5_000), (served) => ({ _tag: "Handshake", url, served }))
  const port = String(service?.port ?? 443)
  const target = `Service ${service?.namespace}/${service?.name}:${port}`
  return kube.proxyServicePost(service?.namespace ?? "", service?.name ?? "", port, service?.path ?? MutatePath, probeReview).pipe(
    Effect.map((answer) => {
      const response = (answer as { response?: { uid?: unknown } } | null)?.response
      return response?.uid === probeReview.request.uid
        ? { _tag: "Proxy", target, answered: true, forbidden: false, message: "" } as const
        : { _tag: "Proxy", target, answered: false, forbidden: false, message: "the answer is not the webhook's AdmissionReview" } as const
    }),
    Effect.catch((e) =>
      Effect.succeed({ _tag: "Proxy", target, answered: false, forbidden: e._tag === "Forbidden", message: e.message } as const)
    )
  )
}

/** readStored: the certificate Secret, or why it was not read. */
export const readStored = (kube: KubeClientShape, settings: WebhookConfigShape): Effect.Effect<StoredFacts> =>
  kube.getSecret(settings.podNamespace, settings.webhook.secretName).pipe(
    Effect.map((secret): StoredFacts => ({ _tag: "Read", material: fromSecretData(secret.data) })),
    Effect.catch((e) =>
      Effect.succeed<StoredFacts>({ _tag: "Unreadable", reason: e._tag === "Forbidden" ? `forbidden: ${e.hint}` : e.message })
    )
  )

/** certificateCheck: check 2 for the live webhook (undefined: check 1 already failed). */
export const certificateCheck = (
  kube: KubeClientShape,
  settings: WebhookConfigShape,
  webhook: MutatingWebhook | undefined
): Effect.Effect<CheckResult> =>
  Effect.gen(function*() {
    if (webhook === undefined) return check(2, Title, [skip("no registration to check (check 1)")])
    const caBundlePem = Buffer.from(webhook.clientConfig.caBundle ?? "", "base64").toString("utf8")
    const stored = yield* readStored(kube, settings)
    const served = yield* gatherServed(kube, webhook, caBundlePem)
    return check(2, Title, certificateFindings({ now: new Date(), caBundlePem, stored, served }))
  })
