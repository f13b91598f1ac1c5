/**
 * ServingCheck: can this pair be served to the webhook's callers *now*? `parseTlsPair` answers "is it a usable
 * pair at all" (it parses, the key matches, OpenSSL takes it); this answers what the API server checks when it
 * connects (Go's crypto/x509 verification of the webhook's certificate, k8s.io/apiserver pkg/util/webhook):
 *
 * - it is valid now (not expired; not valid only in the future, beyond the clock skew the issuer backdates for);
 * - it covers every name the webhook is called by, as SANs (Go ignores the subject CN since 1.15);
 * - it allows serverAuth when it restricts its extended key usage;
 * - it chains to the CA bundle the API server trusts for this webhook (`ca.crt`, the registered caBundle), when
 *   there is one, through the intermediates that follow the leaf in `tls.crt`, every link valid now.
 *
 * Certificate sources refuse a new pair that fails any of these (the old pair stays, issue 10, finding 3): an
 * expired pair, one for the wrong name, or one signed by a CA the API server does not trust makes every call
 * fail with an x509 error while the webhook itself looks healthy.
 */
import * as net from "node:net"
import type { WebhookConfigShape } from "../../WebhookConfig.ts"
import type { TlsPair } from "../TlsPair.ts"
import { type CertView, signedBy, splitPem, viewCert } from "./Pem.ts"
import { BackdateMs } from "./RotationPolicy.ts"

export interface ServingExpectations {
  /** DNS names and IPs the webhook is called by; the leaf must cover each. Empty: no name is checked. */
  readonly names: ReadonlyArray<string>
  /** The PEM bundle the API server trusts for this webhook (`ca.crt`); "" when there is none to check against. */
  readonly caBundle: string
  readonly now: Date
}

/** How the webhook is reached: through its registration (cluster), or on loopback by `serve --embedded`. */
export type CallerMode = "cluster" | "embedded"

/** The names `serve --embedded` serves (src/cli/EmbeddedCerts.ts issues exactly these). */
export const EmbeddedNames: ReadonlyArray<string> = ["localhost", "127.0.0.1"]

/**
 * calledNames: the names the API server uses to reach this webhook. With a Service registration it verifies
 * `<serviceName>.<namespace>.svc` (k8s.io/apiserver pkg/util/webhook/client.go sets that ServerName); with
 * `webhook.webhookUrl` it verifies the URL's host and never uses the Service name. `webhook.extraSANs` are
 * names the operator declared the webhook is also called by. Embedded mode: localhost and 127.0.0.1 only.
 */
export const calledNames = (config: WebhookConfigShape, mode: CallerMode): ReadonlyArray<string> => {
  if (mode === "embedded") return EmbeddedNames
  const { webhook } = config
  const url = webhook.webhookUrl === undefined ? undefined : urlHost(webhook.webhookUrl)
  const primary = url ?? `${webhook.serviceName}.${config.podNamespace}.svc`
  return [...new Set([primary, ...webhook.extraSANs].map((name) => name.trim()).filter((name) => name !== ""))]
}

/** urlHost: the host of a URL without IPv6 brackets; undefined when it does not parse (config names it). */
const urlHost = (url: string): string | undefined => {
  try {
    return new URL(url).hostname.replace(/^\[(.*)\]$/, "$1")
  } catch {
    return undefined
  }
}

const ServerAuth = "1.3.6.1.5.5.7.3.1"
const MaxChain = 8
const iso = (date: Date) => date.toISOString()

/** validityProblem: why `cert` is not valid at `now` (notBefore may be up to BackdateMs ahead, as RotationPolicy allows). */
const validityProblem = (cert: CertView, now: number, what: string): string | undefined =>
  cert.notAfter.getTime() <= now
    ? `${what} expired at ${iso(cert.notAfter)}`
    : cert.notBefore.getTime() > now + BackdateMs
    ? `${what} is not valid before ${iso(cert.notBefore)}`
    : undefined

/** covers: the leaf's SANs name `name` (DNS with wildcards as OpenSSL matches them, or an IP); never the CN. */
const covers = (leaf: CertView, name: string): boolean =>
  net.isIP(name) !== 0
    ? leaf.x509.checkIP(name) !== undefined
    : leaf.x509.checkHost(name, { subject: "never" }) !== undefined

/**
 * chainProblem: why `leaf` does not chain to a CA of the bundle, following the certificates that come after it
 * in tls.crt; undefined when it does. Every certificate on the path, the anchor included, must be valid now.
 */
const chainProblem = (leaf: CertView, rest: ReadonlyArray<CertView>, bundle: ReadonlyArray<CertView>, now: number) => {
  let current = leaf
  for (let depth = 0; depth < MaxChain; depth++) {
    const anchor = bundle.find((ca) => signedBy(current, ca))
    if (anchor !== undefined) return validityProblem(anchor, now, `its CA "${anchor.subject}" in ca.crt`)
    const next = rest.find((cert) => cert.isCa && cert.fingerprint !== current.fingerprint && signedBy(current, cert))
    if (next === undefined) break
    const invalid = validityProblem(next, now, `its intermediate "${next.subject}"`)
    if (invalid !== undefined) return invalid
    current = next
  }
  return `it is not signed by a CA in ca.crt (issuer "${leaf.issuer}")`
}

/** servingProblems: every reason `pair` cannot be served now (empty when it can). */
export const servingProblems = (pair: TlsPair, expectations: ServingExpectations): ReadonlyArray<string> => {
  const certs = splitPem(pair.certPem.toString("utf8")).map(viewCert)
  const leaf = certs[0]
  if (leaf === undefined || typeof leaf === "string") return [`tls.crt: ${leaf ?? "no certificate"}`]
  const rest = certs.slice(1).filter((cert): cert is CertView => typeof cert !== "string")
  const now = expectations.now.getTime()
  const problems: Array<string> = []
  const invalid = validityProblem(leaf, now, "it")
  if (invalid !== undefined) problems.push(invalid)
  const missing = expectations.names.filter((name) => !covers(leaf, name))
  if (missing.length > 0) {
    const sans = [...leaf.dnsNames, ...leaf.ipAddresses].join(",") || "none"
    problems.push(`it does not cover ${missing.join(", ")} (its SANs: ${sans})`)
  }
  if (leaf.x509.keyUsage !== undefined && !leaf.x509.keyUsage.includes(ServerAuth)) {
    problems.push("its extended key usage does not allow serverAuth")
  }
  const bundle = splitPem(expectations.caBundle).map(viewCert).filter((ca): ca is CertView => typeof ca !== "string")
  if (expectations.caBundle.trim() !== "") {
    const chain = bundle.length === 0 ? "ca.crt holds no readable certificate" : chainProblem(leaf, rest, bundle, now)
    if (chain !== undefined) problems.push(chain)
  }
  return problems
}
