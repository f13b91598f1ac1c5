/**
 * Quantity: Kubernetes resource quantities (`200m`, `500Mi`, `1.5`, `1e3`) and container resource names, read
 * with the grammar the API server applies (k8s.io/apimachinery `pkg/api/resource/quantity.go` and
 * `suffix.go`; k8s.io/kubernetes `pkg/apis/core/validation` for names and for request <= limit), so that a
 * puller's `resources` the API server would refuse is a config error at start-up instead of a refused Pod.
 */
import { isDnsSubdomain } from "./KubeNames.ts"

// <signedNumber><suffix>: binary SI (Ki..Ei), decimal SI (n u m "" k M G T P E) or a decimal exponent (e3, E-2).
const QUANTITY = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?$/

const binary: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 }
const decimal: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 }

/** quantityValue: the quantity's value as a number (for comparisons), or undefined when it is not a quantity. */
export const quantityValue = (text: string): number | undefined => {
  const match = QUANTITY.exec(text)
  if (match === null) return undefined
  const [, sign = "", digits = "", suffix = ""] = match
  const mantissa = Number(digits) * (sign === "-" ? -1 : 1)
  if (suffix in binary) return mantissa * 2 ** (binary[suffix] ?? 0)
  if (suffix in decimal) return mantissa * 10 ** (decimal[suffix] ?? 0)
  return mantissa * 10 ** Number(suffix.slice(1))
}

const STANDARD = new Set(["cpu", "memory", "ephemeral-storage"])

/**
 * isContainerResourceName: a name a container's requests/limits may use: `cpu`, `memory`, `ephemeral-storage`,
 * `hugepages-<size>`, or an extended resource `<domain>/<name>` outside `kubernetes.io`.
 */
export const isContainerResourceName = (name: string): boolean => {
  if (STANDARD.has(name)) return true
  if (name.startsWith("hugepages-")) return quantityValue(name.slice("hugepages-".length)) !== undefined
  const slash = name.indexOf("/")
  if (slash <= 0) return false
  const domain = name.slice(0, slash)
  const rest = name.slice(slash + 1)
  return isDnsSubdomain(domain) && !domain.endsWith("kubernetes.io") && /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(rest)
}

/** The names a misspelt resource name is compared with for "did you mean". */
export const standardResourceNames: ReadonlyArray<string> = [...STANDARD]
