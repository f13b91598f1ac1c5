/**
 * RotationPolicy: what to do with the certificate Secret at a given moment, as a pure function of its contents
 * and the time. No clock, no randomness, no I/O: `planRotation(material, now, settings)` says whether to make a
 * new CA, whether (and with which CA) to issue a serving certificate, which CAs stay in `ca.crt`, and why.
 * CertService carries the plan out (keys are random, so issuing is not pure); everything about *when* lives here.
 *
 * Rules (the acceptance list):
 * - A certificate is renewed at two thirds of its life (notBefore to notAfter).
 * - A new CA enters `ca.crt` at least `propagationGrace` before any serving certificate signed by it is issued,
 *   so every replica and the API server's caBundle trust it before it is used. `ca.key` holds the newest CA's
 *   key; the previous CA stays in the bundle, still trusting the serving certificate in use.
 * - A CA leaves `ca.crt` only when it signed neither the signer nor the current serving certificate, and that
 *   serving certificate has been in place for `propagationGrace` (no replica still serves an older one).
 * - A serving certificate that is missing, unreadable, expired, mismatched with its key or not signed by a CA in
 *   `ca.crt` is broken: it is replaced at once (with the signer, else with a new CA). Wrong SANs alone wait for a
 *   fresh CA to propagate (the current certificate still works for the names it has).
 * Freshness counts from notBefore + `Backdate` (certificates are backdated for clock skew; see Issuer callers).
 */
import * as net from "node:net"
import type { CertMaterial } from "./CertMaterial.ts"
import { type CertView, keyMatches, signedBy, splitPem, viewCert, viewKey } from "./Pem.ts"

/** RenewAt: the fraction of a certificate's life after which it is renewed. */
export const RenewAt = 2 / 3
/** Backdate: how far notBefore is set in the past when issuing, for clocks a little behind ours. */
export const BackdateMs = 5 * 60_000

export interface RotationSettings {
  readonly serviceName: string
  readonly namespace: string
  readonly extraSANs: ReadonlyArray<string>
  readonly caValidityDays: number
  readonly servingValidityDays: number
  /** Time for a Secret change to reach every replica's files and the registered caBundle. */
  readonly propagationGraceMs: number
}

export type ServingAction = "keep" | "sign-with-signer" | "sign-with-new-ca"

export interface Signer {
  readonly cert: CertView
  readonly keyPem: string
}

export interface RotationPlan {
  readonly newCa: boolean
  readonly serving: ServingAction
  /** CAs kept from the current bundle (the new CA, if any, is added by the executor). */
  readonly keptCas: ReadonlyArray<CertView>
  /** The usable signing CA of the current material. */
  readonly signer: Signer | undefined
  readonly changed: boolean
  /** Why the material changes, or (when unchanged) notes on what is pending. */
  readonly reasons: ReadonlyArray<string>
}

/** canonicalName: DNS names compare case-insensitively, IPv6 addresses in their shortest form. */
export const canonicalName = (name: string): string =>
  net.isIPv6(name) ? new URL(`http://[${name}]`).hostname.slice(1, -1) : name.toLowerCase()

/** servingNames: `<svc>`, `<svc>.<ns>`, `<svc>.<ns>.svc`, then webhook.extraSANs, without duplicates. */
export const servingNames = (settings: RotationSettings): ReadonlyArray<string> => {
  const { namespace, serviceName } = settings
  const names = [serviceName, `${serviceName}.${namespace}`, `${serviceName}.${namespace}.svc`, ...settings.extraSANs]
  return [...new Set(names.map((name) => name.trim()).filter((name) => name !== ""))]
}

const ServerAuth = "1.3.6.1.5.5.7.3.1"
const iso = (date: Date) => date.toISOString()
const renewTime = (cert: CertView) =>
  cert.notBefore.getTime() + RenewAt * (cert.notAfter.getTime() - cert.notBefore.getTime())
const byAge = (a: CertView, b: CertView) => a.notBefore.getTime() - b.notBefore.getTime()

interface Serving {
  readonly view: CertView | undefined
  readonly issuer: CertView | undefined
  /** "hard": unusable now; "soft": usable but not what the config asks for. */
  readonly problem: { readonly kind: "hard" | "soft"; readonly text: string } | undefined
  readonly due: boolean
}

const hard = (text: string) => ({ kind: "hard" as const, text })

/** assessServing: is `tls.crt` usable, by which CA in the bundle was it signed, and is it due. */
const assessServing = (material: CertMaterial, cas: ReadonlyArray<CertView>, now: number, settings: RotationSettings): Serving => {
  const pem = splitPem(material.tlsCrt)[0]
  const none = { view: undefined, issuer: undefined, due: false }
  if (pem === undefined) return { ...none, problem: hard("tls.crt holds no certificate") }
  const view = viewCert(pem)
  if (typeof view === "string") return { ...none, problem: hard(`tls.crt is ${view}`) }
  const issuer = cas.find((ca) => signedBy(view, ca))
  const base = { view, issuer, due: now >= renewTime(view) }
  if (!keyMatches(view, viewKey(material.tlsKey))) return { ...base, problem: hard("tls.key does not match tls.crt") }
  if (view.notAfter.getTime() <= now) return { ...base, problem: hard(`it expired at ${iso(view.notAfter)}`) }
  if (view.notBefore.getTime() > now + BackdateMs) return { ...base, problem: hard(`it is not valid before ${iso(view.notBefore)}`) }
  if (issuer === undefined) return { ...base, problem: hard("it is not signed by a CA in ca.crt") }
  if (view.x509.keyUsage !== undefined && !view.x509.keyUsage.includes(ServerAuth)) {
    return { ...base, problem: hard("its extended key usage does not allow serverAuth") }
  }
  const want = servingNames(settings).map(canonicalName).sort()
  const have = [...view.dnsNames, ...view.ipAddresses].map(canonicalName).sort()
  if (want.join(",") !== have.join(",")) {
    return { ...base, problem: { kind: "soft", text: `its SANs are ${have.join(",") || "none"}, want ${want.join(",")}` } }
  }
  return { ...base, problem: undefined }
}

/** readBundle keeps the CA certificates of `ca.crt` that can still be trusted, noting what it drops. */
const readBundle = (caCrt: string, now: number, reasons: Array<string>): Array<CertView> => {
  const cas: Array<CertView> = []
  const entries = splitPem(caCrt)
  if (caCrt.trim() !== "" && entries.length === 0) reasons.push("ca.crt holds no PEM certificate")
  for (const pem of entries) {
    const view = viewCert(pem)
    if (typeof view === "string") reasons.push(`dropping an entry of ca.crt that is ${view}`)
    else if (!view.isCa) reasons.push(`dropping "${view.subject}" from ca.crt: not a CA`)
    else if (view.notAfter.getTime() <= now) reasons.push(`dropping CA "${view.subject}": expired at ${iso(view.notAfter)}`)
    else if (cas.some((ca) => ca.fingerprint === view.fingerprint)) reasons.push(`dropping a duplicate of CA "${view.subject}"`)
    else cas.push(view)
  }
  return cas.sort(byAge)
}

/** findSigner: the newest CA in the bundle whose key is `ca.key` (an RSA key: the issuer signs RSA only). */
const findSigner = (cas: ReadonlyArray<CertView>, caKeyPem: string, reasons: Array<string>): Signer | undefined => {
  const key = viewKey(caKeyPem)
  if (key === undefined) {
    reasons.push(caKeyPem.trim() === "" ? "ca.key is absent: a new CA is needed to sign" : "ca.key is unreadable: a new CA is needed to sign")
    return undefined
  }
  if (key.asymmetricKeyType !== "rsa") {
    reasons.push(`ca.key is a ${key.asymmetricKeyType} key, not RSA: a new CA is needed to sign`)
    return undefined
  }
  const cert = cas.filter((ca) => keyMatches(ca, key)).at(-1)
  if (cert === undefined) reasons.push("ca.key matches no valid CA in ca.crt: a new CA is needed to sign")
  return cert === undefined ? undefined : { cert, keyPem: caKeyPem }
}

/** planRotation: the decision for `material` at `now` (see the module comment for the rules). */
export const planRotation = (material: CertMaterial, now: Date, settings: RotationSettings): RotationPlan => {
  const t = now.getTime()
  const reasons: Array<string> = []
  const cas = readBundle(material.caCrt, t, reasons)
  const bundleCleaned = reasons.length > 0
  const signer = findSigner(cas, material.caKey, reasons)
  const settled = (cert: CertView) => t >= cert.notBefore.getTime() + BackdateMs + settings.propagationGraceMs
  const caDue = signer !== undefined && t >= renewTime(signer.cert)
  if (caDue) reasons.push(`CA "${signer.cert.subject}" passed 2/3 of its life (expires ${iso(signer.cert.notAfter)}): adding a new CA`)
  const newCa = signer === undefined || caDue
  const serving = assessServing(material, cas, t, settings)
  const signerReady = signer !== undefined && settled(signer.cert)
  let action: ServingAction = "keep"
  if (serving.problem !== undefined && (serving.problem.kind === "hard" || signerReady)) {
    action = signer === undefined ? "sign-with-new-ca" : "sign-with-signer"
    reasons.push(`serving certificate replaced: ${serving.problem.text}`)
  } else if (serving.problem !== undefined) {
    reasons.push(`serving certificate: ${serving.problem.text}; waiting for the new CA to propagate`)
  } else if (serving.due && signerReady) {
    action = "sign-with-signer"
    reasons.push(`serving certificate passed 2/3 of its life (expires ${iso(serving.view?.notAfter ?? now)}): renewed`)
  } else if (serving.due) {
    reasons.push("serving certificate is due; waiting for the new CA to propagate before renewing it")
  } else if (signerReady && serving.issuer?.fingerprint !== signer.cert.fingerprint) {
    action = "sign-with-signer"
    reasons.push(`serving certificate moved to the current CA "${signer.cert.subject}"`)
  }
  const issuerAfter = action === "keep" ? serving.issuer : action === "sign-with-signer" ? signer?.cert : undefined
  const servingSettled = action === "keep" && serving.view !== undefined && settled(serving.view)
  const keptCas = cas.filter((ca) => {
    const needed = ca.fingerprint === signer?.cert.fingerprint || ca.fingerprint === issuerAfter?.fingerprint
    if (needed || !servingSettled) return true
    reasons.push(`CA "${ca.subject}" removed from ca.crt: no serving certificate signed by it remains`)
    return false
  })
  const changed = newCa || action !== "keep" || bundleCleaned || keptCas.length !== cas.length
  const empty = Object.values(material).every((text) => text.trim() === "")
  const why = empty ? ["no certificates yet: a new CA and a serving certificate signed by it"] : reasons
  return { newCa, serving: action, keptCas, signer, changed, reasons: why }
}
