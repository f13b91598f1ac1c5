/**
 * ImageReference: the container image reference grammar of github.com/distribution/reference (`regexp.go`),
 * which the kubelet and every container runtime use to parse `image:`. A puller image that does not match
 * makes every Pod that needs that puller fail with `InvalidImageName`, so the config refuses it at start-up.
 *
 *   reference := name [ ":" tag ] [ "@" digest ]
 *   name      := [ domain "/" ] path-component [ "/" path-component ]*   (at most 255 characters)
 *   domain    := host [ ":" port ], host a DNS name, an IPv4 address or a bracketed IPv6 address
 */

const domainComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
const host = `(?:${domainComponent}(?:\\.${domainComponent})*|\\[[a-fA-F0-9:]+\\])`
const domain = `${host}(?::[0-9]+)?`
const pathComponent = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
const name = `(?:${domain}/)?${pathComponent}(?:/${pathComponent})*`
const tag = "[\\w][\\w.-]{0,127}"
const digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

const REFERENCE = new RegExp(`^(${name})(?::${tag})?(?:@${digest})?$`)

/** isImageReference: whether the kubelet can parse `reference` as an image. */
export const isImageReference = (reference: string): boolean => {
  const match = REFERENCE.exec(reference)
  return match !== null && (match[1] ?? "").length <= 255
}
