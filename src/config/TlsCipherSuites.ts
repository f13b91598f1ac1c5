/**
 * TlsCipherSuites: the TLS 1.2 cipher suites `webhook.tlsCipherSuites` may name, and how a name is read.
 *
 * The allowed set is Mozilla's "intermediate" server configuration (https://ssl-config.mozilla.org/, guidelines
 * v5.7) restricted to ECDHE key exchange with AEAD ciphers: its DHE suites are left out (finite-field DH needs
 * large parameters to be safe and the Kubernetes API server's Go client never offers them). TLS 1.3 suites are
 * not configurable (Node negotiates its three AEAD suites). An empty list means all of these, in this order.
 *
 * Names are accepted as IANA spells them (what Kubernetes components take in `--tls-cipher-suites`, including
 * Go's shorter CHACHA20 names) or as OpenSSL spells them (what Node's `ciphers` option takes); settings hold
 * the OpenSSL names.
 */

/** IANA name -> OpenSSL name, in Mozilla's order of preference. */
export const allowedCipherSuites: ReadonlyArray<readonly [iana: string, openssl: string]> = [
  ["TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256"],
  ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"],
  ["TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384"],
  ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384"],
  ["TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"],
  ["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305"]
]

/** Go's crypto/tls constant names for the two CHACHA20 suites, which Kubernetes flags also accept. */
const goAliases: ReadonlyArray<readonly [string, string]> = [
  ["TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305", "ECDHE-ECDSA-CHACHA20-POLY1305"],
  ["TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"]
]

const byName = new Map<string, string>([
  ...allowedCipherSuites.flatMap(([iana, openssl]) => [[iana, openssl], [openssl, openssl]] as const),
  ...goAliases
].map(([name, openssl]) => [name.toUpperCase(), openssl]))

/** openSslName: the OpenSSL name of an allowed suite given by either name (case-insensitive), else undefined. */
export const openSslName = (name: string): string | undefined => byName.get(name.trim().toUpperCase())
