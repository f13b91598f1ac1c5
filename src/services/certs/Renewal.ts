/**
 * Renewal: carries out a RotationPlan, making the keys and certificates it calls for, and returns the new
 * Secret contents. All decisions were taken by `planRotation`; this only issues and assembles. New
 * certificates are backdated by `BackdateMs` and a serving certificate never outlives the CA that signs it.
 */
import { Effect } from "effect"
import type { CertMaterial } from "./CertMaterial.ts"
import { generateKey, issueCa, issueServing, type IssueError } from "./Issuer.ts"
import { type CertView, joinPem, viewCert } from "./Pem.ts"
import { BackdateMs, planRotation, type RotationPlan, type RotationSettings, servingNames } from "./RotationPolicy.ts"

export interface IssueSettings extends RotationSettings {
  readonly caKeySize: number
  readonly servingKeySize: number
}

export interface Renewal {
  readonly material: CertMaterial
  readonly changed: boolean
  readonly reasons: ReadonlyArray<string>
  readonly plan: RotationPlan
}

const DayMs = 86_400_000

const view = (pem: string): CertView => {
  const parsed = viewCert(pem)
  if (typeof parsed === "string") throw new Error(`issued certificate does not parse: ${parsed}`)
  return parsed
}

const makeCa = (now: Date, settings: IssueSettings) =>
  Effect.gen(function*() {
    const key = yield* generateKey(settings.caKeySize)
    const pem = yield* issueCa({
      key,
      commonName: `${settings.serviceName}-ca@${Math.floor(now.getTime() / 1000)}`,
      notBefore: new Date(now.getTime() - BackdateMs),
      notAfter: new Date(now.getTime() + settings.caValidityDays * DayMs)
    })
    return { cert: view(pem), keyPem: key.privatePem }
  })

const makeServing = (signer: { readonly cert: CertView; readonly keyPem: string }, now: Date, settings: IssueSettings) =>
  Effect.gen(function*() {
    const key = yield* generateKey(settings.servingKeySize)
    const notAfter = Math.min(now.getTime() + settings.servingValidityDays * DayMs, signer.cert.notAfter.getTime())
    const certPem = yield* issueServing({
      key,
      caCertPem: signer.cert.pem,
      caKeyPem: signer.keyPem,
      commonName: `${settings.serviceName}.${settings.namespace}.svc`,
      names: servingNames(settings),
      notBefore: new Date(now.getTime() - BackdateMs),
      notAfter: new Date(notAfter)
    })
    return { tlsCrt: certPem, tlsKey: key.privatePem }
  })

/** carryOut issues what `plan` asks for and assembles the new material (unchanged material when nothing). */
export const carryOut = (
  plan: RotationPlan,
  material: CertMaterial,
  now: Date,
  settings: IssueSettings
): Effect.Effect<Renewal, IssueError> =>
  Effect.gen(function*() {
    if (!plan.changed) return { material, changed: false, reasons: plan.reasons, plan }
    const newCa = plan.newCa ? yield* makeCa(now, settings) : undefined
    const servingSigner = plan.serving === "sign-with-signer" ? plan.signer : plan.serving === "sign-with-new-ca" ? newCa : undefined
    const serving = servingSigner === undefined
      ? { tlsCrt: material.tlsCrt, tlsKey: material.tlsKey }
      : yield* makeServing(servingSigner, now, settings)
    const cas = [...plan.keptCas, ...(newCa === undefined ? [] : [newCa.cert])]
    const next: CertMaterial = {
      caCrt: joinPem(cas.map((ca) => ca.pem)),
      caKey: newCa?.keyPem ?? plan.signer?.keyPem ?? material.caKey,
      ...serving
    }
    return { material: next, changed: true, reasons: plan.reasons, plan }
  })

/** renewMaterial: plan and carry out in one step. */
export const renewMaterial = (material: CertMaterial, now: Date, settings: IssueSettings) =>
  carryOut(planRotation(material, now, settings), material, now, settings)
