/**
 * KubeNames: the Kubernetes name rules the engine must respect so that the API server never refuses a Pod for a
 * field the user did not write (k8s.io/apimachinery `validation.IsDNS1123Subdomain`, `IsDNS1123Label`,
 * `IsConfigMapKey`; Secret names and keys are validated with them).
 */

/** A volume name is a DNS label: at most 63 characters. */
export const MaxVolumeName = 63

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const configMapKey = /^[-._a-zA-Z0-9]+$/

/** isDnsLabel: RFC 1123 label (volume names). */
export const isDnsLabel = (name: string): boolean => name.length <= MaxVolumeName && dnsLabel.test(name)

/** isSecretName: RFC 1123 subdomain, what a Kubernetes Secret may be called. */
export const isSecretName = (name: string): boolean =>
  name.length > 0 && name.length <= 253 && name.split(".").every((label) => dnsLabel.test(label))

/** SecretNameRule: the rule in words, for denial messages. */
export const SecretNameRule =
  'lower-case letters, digits, "-" and ".", starting and ending with a letter or digit, at most 253 characters'

/** isSecretKey: what a key of a Secret's data may be called (and so the only keys that can exist). */
export const isSecretKey = (key: string): boolean =>
  key.length <= 253 && configMapKey.test(key) && key !== "." && key !== ".." && !key.startsWith("..")

/** SecretKeyRule: the rule in words, for denial messages. */
export const SecretKeyRule = 'letters, digits, "-", "_" and ".", at most 253 characters'

/**
 * alternateName: the i-th deterministic replacement for a volume name that is taken: `<name>-<i>`, the name cut so
 * that the result stays a DNS label of at most 63 characters.
 */
export const alternateName = (name: string, i: number): string => {
  const suffix = `-${i}`
  return `${name.slice(0, MaxVolumeName - suffix.length)}${suffix}`
}
