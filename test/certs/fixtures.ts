/**
 * Test helpers for certificates: settings with 2048-bit keys (fast), an independent reader of X.509
 * extensions (a few lines of DER, so key-usage checks do not trust node-forge, which wrote them), and a real
 * TLS handshake from Node's HTTPS client.
 */
import * as crypto from "node:crypto"
import * as https from "node:https"
import type { AddressInfo } from "node:net"
import type { IssueSettings } from "../../src/services/certs/Renewal.ts"

export const settings = (overrides: Partial<IssueSettings> = {}): IssueSettings => ({
  serviceName: "flyte-pod-webhook",
  namespace: "flyte",
  extraSANs: [],
  caValidityDays: 3650,
  servingValidityDays: 365,
  caKeySize: 2048,
  servingKeySize: 2048,
  propagationGraceMs: 3_600_000,
  ...overrides
})

export const DayMs = 86_400_000

/** x509 parses a PEM (first certificate). */
export const x509 = (pem: string) => new crypto.X509Certificate(pem)

/** readLength reads a DER length at `at`; returns [length, offset of the content]. */
const readLength = (der: Buffer, at: number): [number, number] => {
  const first = der[at] ?? 0
  if (first < 0x80) return [first, at + 1]
  const bytes = first & 0x7f
  let length = 0
  for (let i = 0; i < bytes; i++) length = length * 256 + (der[at + 1 + i] ?? 0)
  return [length, at + 1 + bytes]
}

/**
 * extension finds an extension of `cert` by the last byte of its id-ce OID (2.5.29.x: 15 keyUsage,
 * 19 basicConstraints) and returns whether it is critical and its inner value (the OCTET STRING's content).
 */
export const extension = (cert: crypto.X509Certificate, id: number): { critical: boolean; value: Buffer } | undefined => {
  const der = cert.raw
  const oid = Buffer.from([0x06, 0x03, 0x55, 0x1d, id])
  const at = der.indexOf(oid)
  if (at < 0) return undefined
  let cursor = at + oid.length
  let critical = false
  if (der[cursor] === 0x01) {
    critical = der[cursor + 2] === 0xff
    cursor += 3
  }
  if (der[cursor] !== 0x04) return undefined
  const [length, start] = readLength(der, cursor + 1)
  return { critical, value: der.subarray(start, start + length) }
}

/** keyUsageBits: the keyUsage BIT STRING's first content byte (0x80 digitalSignature ... 0x02 cRLSign). */
export const keyUsageBits = (cert: crypto.X509Certificate): number | undefined => {
  const ext = extension(cert, 15)
  return ext === undefined || ext.value[0] !== 0x03 ? undefined : ext.value[3]
}

export const KeyUsage = { digitalSignature: 0x80, keyEncipherment: 0x20, keyCertSign: 0x04, cRLSign: 0x02 }

/**
 * handshake starts an HTTPS server with `cert`/`key`, connects once with a client trusting only `ca`, and
 * returns "ok" or the client's error code. Both ends are closed before it returns.
 */
export const handshake = async (server: { cert: string; key: string }, client: { ca: string; servername: string }) => {
  const listener = https.createServer({ cert: server.cert, key: server.key }, (_req, res) => res.end("ok"))
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve))
  const port = (listener.address() as AddressInfo).port
  try {
    return await new Promise<string>((resolve) => {
      const request = https.get(
        { host: "127.0.0.1", port, path: "/", ca: client.ca, servername: client.servername, agent: false },
        (res) => {
          res.resume()
          res.on("end", () => resolve(res.statusCode === 200 ? "ok" : `status ${res.statusCode}`))
        }
      )
      request.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
    })
  } finally {
    listener.closeAllConnections()
    await new Promise<void>((resolve) => listener.close(() => resolve()))
  }
}
