/**
 * KubeNames: the name grammars the Kubernetes API server enforces (k8s.io/apimachinery
 * `pkg/util/validation/validation.go`), for config values that end up as object names, annotation keys or
 * label selectors. Checked at start-up so that a bad name is a config error naming the key, not a refusal
 * from the API server later (or a Pod refused at admission).
 */
import * as net from "node:net"

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/

/** isDnsSubdomain: RFC 1123 subdomain (Secret, ConfigMap, MutatingWebhookConfiguration names), at most 253. */
export const isDnsSubdomain = (name: string): boolean =>
  name.length > 0 && name.length <= 253 && name.split(".").every((part) => DNS1123_LABEL.test(part))

/** isServiceName: RFC 1035 label (Service names), at most 63. */
export const isServiceName = (name: string): boolean => name.length <= 63 && DNS1035_LABEL.test(name)

/** isQualifiedName: an annotation or label key: optional `<dns subdomain>/` prefix, then a name of at most 63. */
export const isQualifiedName = (key: string): boolean => {
  const slash = key.lastIndexOf("/")
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined
  const name = slash >= 0 ? key.slice(slash + 1) : key
  return (prefix === undefined || isDnsSubdomain(prefix)) && name.length <= 63 && QUALIFIED_NAME.test(name)
}

/** isLabelValue: at most 63, alphanumeric at both ends (may be empty). */
export const isLabelValue = (value: string): boolean => value.length <= 63 && LABEL_VALUE.test(value)

/** isHostOrIp: an IP address or a DNS name (a certificate SAN, a bind address); `*.` allowed first for SANs. */
export const isHostOrIp = (value: string, options: { readonly wildcard?: boolean } = {}): boolean => {
  if (net.isIP(value) !== 0) return true
  const name = options.wildcard === true && value.startsWith("*.") ? value.slice(2) : value
  return name.length > 0 && name.length <= 253 &&
    name.split(".").every((part) => /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?$/.test(part))
}
