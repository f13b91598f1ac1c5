/**
 * The admission listener's TLS (issue 10): TLS 1.3, or TLS 1.2 only with ECDHE and AEAD suites (Mozilla's
 * intermediate profile without DHE), `webhook.tlsMinVersion` and `webhook.tlsCipherSuites`; and client
 * certificates: with `webhook.clientCAFile` a caller without a certificate of that CA gets no TLS session,
 * `webhook.clientNames` narrows the names (403 before any work), and a rotated CA bundle is picked up without a
 * restart. Handshakes are made with node:tls offering exactly the suites or certificates under test.
 */
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as tls from "node:tls"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { issue, makeCa as makeTestCa } from "../e2e/harness/Pki.ts"
import { baseConfig, ca, result, reviewBody, send, startServer } from "./support.ts"

interface Handshake {
  readonly ok: boolean
  readonly cipher?: string
  readonly protocol?: string | null
  readonly error?: string
}

/** handshake: connect offering only `options` (ciphers, versions, a client certificate); no request is sent. */
const handshake = (port: number, options: tls.ConnectionOptions): Promise<Handshake> =>
  new Promise((resolve) => {
    const socket = tls.connect({ host: "127.0.0.1", port, ca: ca.certPem, servername: "localhost", ...options }, () => {
      const result = { ok: true, cipher: socket.getCipher().name, protocol: socket.getProtocol() }
      // TLS 1.3: the server's verdict on a client certificate arrives after the handshake completes.
      socket.once("data", () => {})
      setTimeout(() => {
        const alive = !socket.destroyed
        socket.destroy()
        resolve(alive ? result : { ok: false, error: "closed after the handshake" })
      }, 200)
    })
    socket.on("error", (e: NodeJS.ErrnoException) => resolve({ ok: false, error: e.code ?? e.message }))
  })

const review = (body: unknown) =>
  Effect.succeed(result((body as { request: { uid: string } }).request.uid, "unchanged", { allowed: true }))

describe("TLS policy", () => {
  let server: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    server = await startServer({ review })
  })
  afterAll(() => server.dispose())

  it.each(["AES128-SHA", "AES256-GCM-SHA384", "AES128-SHA256", "ECDHE-RSA-AES128-SHA", "ARIA128-GCM-SHA256"])(
    "TLS 1.2 %s (no forward secrecy, or not AEAD): no session",
    async (cipher) => {
      const result = await handshake(server.port, { ciphers: cipher, maxVersion: "TLSv1.2" })
      expect(result.ok).toBe(false)
    }
  )

  it.each(["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-CHACHA20-POLY1305"])(
    "TLS 1.2 %s: accepted",
    async (cipher) => {
      const result = await handshake(server.port, { ciphers: cipher, maxVersion: "TLSv1.2" })
      expect(result).toMatchObject({ ok: true, cipher, protocol: "TLSv1.2" })
    }
  )

  it("TLS 1.3: accepted", async () => {
    expect(await handshake(server.port, { minVersion: "TLSv1.3" })).toMatchObject({ ok: true, protocol: "TLSv1.3" })
  })

  it("TLS 1.1: no session", async () => {
    expect((await handshake(server.port, { minVersion: "TLSv1", maxVersion: "TLSv1.1", ciphers: "DEFAULT@SECLEVEL=0" })).ok).toBe(false)
  })
})

describe("webhook.tlsMinVersion: 1.3 and webhook.tlsCipherSuites", () => {
  let server: Awaited<ReturnType<typeof startServer>>
  let narrow: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    server = await startServer({ config: baseConfig({ tlsMinVersion: "1.3" }), review })
    narrow = await startServer({ config: baseConfig({ tlsCipherSuites: ["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"] }), review })
  })
  afterAll(async () => {
    await server.dispose()
    await narrow.dispose()
  })

  it("1.3: a TLS 1.2 client gets no session; a TLS 1.3 one does", async () => {
    expect((await handshake(server.port, { maxVersion: "TLSv1.2" })).ok).toBe(false)
    expect(await handshake(server.port, {})).toMatchObject({ ok: true, protocol: "TLSv1.3" })
  })

  it("only the listed TLS 1.2 suite (given by its IANA name) is accepted", async () => {
    expect((await handshake(narrow.port, { ciphers: "ECDHE-RSA-AES128-GCM-SHA256", maxVersion: "TLSv1.2" })).ok).toBe(false)
    expect(await handshake(narrow.port, { ciphers: "ECDHE-RSA-AES256-GCM-SHA384", maxVersion: "TLSv1.2" }))
      .toMatchObject({ ok: true, cipher: "ECDHE-RSA-AES256-GCM-SHA384" })
  })
})

describe("client certificates (webhook.clientCAFile, webhook.clientNames)", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-client-ca-"))
  const clientCa = makeTestCa("API server client CA")
  const otherCa = makeTestCa("another CA")
  const apiserver = issue(clientCa, { commonName: "kube-apiserver" })
  const someoneElse = issue(clientCa, { commonName: "someone-else" })
  const impostor = issue(otherCa, { commonName: "kube-apiserver" })
  const caFile = path.join(dir, "client-ca.crt")
  let server: Awaited<ReturnType<typeof startServer>>
  let anyName: Awaited<ReturnType<typeof startServer>>
  beforeAll(async () => {
    fs.writeFileSync(caFile, clientCa.certPem)
    server = await startServer({ config: baseConfig({ clientCAFile: caFile, clientNames: ["kube-apiserver"] }), review })
    anyName = await startServer({ config: baseConfig({ clientCAFile: caFile }), review })
  })
  afterAll(async () => {
    await server.dispose()
    await anyName.dispose()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  const clientOf = (leaf: { readonly certPem: string; readonly keyPem: string }) => ({ cert: leaf.certPem, key: leaf.keyPem })

  it("without a client certificate: no TLS session, and no answer", async () => {
    expect((await handshake(server.port, {})).ok).toBe(false)
    const answer = await send(server.port, "/mutate", reviewBody("no-cert")).catch((e: NodeJS.ErrnoException) => e.code ?? e.message)
    expect(typeof answer).toBe("string")
  })

  it("with a certificate of another CA (same name): no TLS session", async () => {
    expect((await handshake(server.port, clientOf(impostor))).ok).toBe(false)
  })

  it("with the API server's certificate: served", async () => {
    const answer = await send(server.port, "/mutate", reviewBody("api"), { client: clientOf(apiserver) })
    expect(answer.status).toBe(200)
    expect(answer.json().response.uid).toBe("api")
  })

  it("a certificate of the CA with a name not in clientNames: 403, before any work", async () => {
    const answer = await send(server.port, "/mutate", reviewBody("else"), { client: clientOf(someoneElse) })
    expect(answer.status).toBe(403)
    expect(answer.json()).toMatchObject({
      kind: "Status",
      reason: "Forbidden",
      message: 'the client certificate ("someone-else") is not one of webhook.clientNames'
    })
    // Without clientNames any certificate of the CA is served.
    expect((await send(anyName.port, "/mutate", reviewBody("else"), { client: clientOf(someoneElse) })).status).toBe(200)
  })

  it("a rotated client CA bundle is taken without a restart", async () => {
    const next = makeTestCa("next client CA")
    const nextClient = issue(next, { commonName: "kube-apiserver" })
    expect((await handshake(anyName.port, clientOf(nextClient))).ok).toBe(false)
    fs.writeFileSync(caFile, next.certPem)
    let ok = false
    for (let i = 0; i < 100 && !ok; i++) {
      ok = (await handshake(anyName.port, clientOf(nextClient))).ok
      if (!ok) await new Promise((r) => setTimeout(r, 100))
    }
    expect(ok).toBe(true)
    expect((await handshake(anyName.port, clientOf(apiserver))).ok).toBe(false)
  })
})
