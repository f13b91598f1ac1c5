/**
 * Certificate hot reload: the kubelet's `..data` symlink swap under live traffic (no failed request, new
 * connections get the new certificate), identical bytes are no reload, a bad new pair keeps the old one.
 */
import { Effect, Fiber, Layer, Stream } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { issueServing } from "../../src/cli/EmbeddedCerts.ts"
import { watchCertDir } from "../../src/services/CertFiles.ts"
import { TlsMaterial } from "../../src/services/TlsMaterial.ts"
import { ca, reviewBody, result, send, serving, startServer } from "./support.ts"
import { parseTlsPair } from "../../src/services/TlsPair.ts"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const fingerprintOf = (pem: string) => parseTlsPair(Buffer.from(pem), Buffer.from(issued.get(pem)!)).fingerprint
const issued = new Map<string, string>([[serving.certPem, serving.keyPem]])
const newPair = () => {
  const pair = issueServing(ca, { dns: ["localhost"], ips: ["127.0.0.1"] })
  issued.set(pair.certPem, pair.keyPem)
  return pair
}

/** Kubelet AtomicWriter layout: files are symlinks through `..data` to a timestamped folder. */
const kubeletWrite = (dir: string, generation: number, pair: { certPem: string; keyPem: string }) => {
  const stamp = `..gen_${generation}`
  fs.mkdirSync(path.join(dir, stamp))
  fs.writeFileSync(path.join(dir, stamp, "tls.crt"), pair.certPem)
  fs.writeFileSync(path.join(dir, stamp, "tls.key"), pair.keyPem)
  const previous = fs.existsSync(path.join(dir, "..data")) ? fs.readlinkSync(path.join(dir, "..data")) : undefined
  fs.symlinkSync(stamp, path.join(dir, "..data_tmp"))
  fs.renameSync(path.join(dir, "..data_tmp"), path.join(dir, "..data"))
  for (const name of ["tls.crt", "tls.key"]) {
    if (!fs.existsSync(path.join(dir, name))) fs.symlinkSync(path.join("..data", name), path.join(dir, name))
  }
  if (previous !== undefined) fs.rmSync(path.join(dir, previous), { recursive: true })
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-reload-"))
afterAll(() => fs.rmSync(work, { recursive: true, force: true }))

describe("certificate reload during traffic", () => {
  it("swaps the certificate for new connections with no failed request", async () => {
    const dir = path.join(work, "live")
    fs.mkdirSync(dir)
    kubeletWrite(dir, 0, serving)
    const server = await startServer({
      tls: Layer.effect(TlsMaterial, watchCertDir(dir, { pollInterval: "10 seconds", settle: "50 millis" })),
      review: (body) => Effect.succeed(result((body as { request: { uid: string } }).request.uid, "unchanged", { allowed: true }))
    })
    let running = true
    let ok = 0
    const failures: Array<string> = []
    const seen = new Set<string>()
    const loop = async (n: number) => {
      for (let i = 0; running; i++) {
        try {
          const a = await send(server.port, "/mutate", reviewBody(`l${n}-${i}`)) // a new TLS connection each time
          if (a.status === 200 && a.json().response.uid === `l${n}-${i}`) ok++
          else failures.push(`${a.status} ${a.text}`)
          if (a.fingerprint !== undefined) seen.add(a.fingerprint)
        } catch (e) {
          failures.push(String(e))
        }
      }
    }
    const loops = [0, 1, 2, 3].map(loop)
    try {
      const expected: Array<string> = []
      for (let generation = 1; generation <= 3; generation++) {
        await sleep(150)
        const pair = newPair()
        kubeletWrite(dir, generation, pair)
        const fp = fingerprintOf(pair.certPem)
        expected.push(fp)
        // A missed folder event is caught by the 10 s poll, so wait past it before calling it a failure.
        for (let i = 0; i < 1_200 && !seen.has(fp); i++) await sleep(10)
      }
      await sleep(150)
      running = false
      await Promise.all(loops)
      expect(failures).toStrictEqual([])
      expect(ok).toBeGreaterThan(20)
      for (const fp of expected) expect(seen).toContain(fp)
      expect(seen).toContain(fingerprintOf(serving.certPem))
    } finally {
      running = false
      await server.dispose()
    }
  })
})

describe("CertFiles", () => {
  /** watchAndCount runs `during`, then waits until `settled` holds for the current pair (or 12 s, past the poll). */
  const watchAndCount = (dir: string, during: Effect.Effect<void>, settled?: (fingerprint: string) => boolean) =>
    Effect.gen(function*() {
      const material = yield* watchCertDir(dir, { pollInterval: "10 seconds", settle: "20 millis" })
      const emitted: Array<string> = []
      const fiber = yield* material.changes.pipe(
        Stream.runForEach((p) => Effect.sync(() => void emitted.push(p.fingerprint))),
        Effect.forkScoped
      )
      yield* Effect.sleep("50 millis")
      yield* during
      if (settled !== undefined) {
        for (let i = 0; i < 1_200 && !settled((yield* material.current).fingerprint); i++) yield* Effect.sleep("10 millis")
      }
      yield* Effect.sleep("300 millis")
      yield* Fiber.interrupt(fiber)
      return { emitted, current: (yield* material.current).fingerprint }
    }).pipe(Effect.scoped, Effect.runPromise)

  it("identical bytes rewritten: no reload", async () => {
    const dir = path.join(work, "same")
    fs.mkdirSync(dir)
    kubeletWrite(dir, 0, serving)
    const { emitted } = await watchAndCount(dir, Effect.sync(() => kubeletWrite(dir, 1, serving)))
    expect(emitted).toStrictEqual([fingerprintOf(serving.certPem)])
  })

  it("a mismatched new pair keeps the old one; a good one after it is taken", async () => {
    const dir = path.join(work, "bad")
    fs.mkdirSync(dir)
    kubeletWrite(dir, 0, serving)
    const a = newPair()
    const b = newPair()
    const { emitted, current } = await watchAndCount(dir, Effect.gen(function*() {
      yield* Effect.sync(() => kubeletWrite(dir, 1, { certPem: a.certPem, keyPem: b.keyPem }))
      yield* Effect.sleep("300 millis")
      yield* Effect.sync(() => kubeletWrite(dir, 2, { certPem: "not a certificate", keyPem: b.keyPem }))
      yield* Effect.sleep("300 millis")
      yield* Effect.sync(() => kubeletWrite(dir, 3, b))
    }), (fp) => fp === fingerprintOf(b.certPem))
    expect(emitted).toStrictEqual([fingerprintOf(serving.certPem), fingerprintOf(b.certPem)])
    expect(current).toBe(fingerprintOf(b.certPem))
  })

  it("in-place rewrite of plain files is picked up", async () => {
    const dir = path.join(work, "plain")
    fs.mkdirSync(dir)
    fs.writeFileSync(path.join(dir, "tls.crt"), serving.certPem)
    fs.writeFileSync(path.join(dir, "tls.key"), serving.keyPem)
    const c = newPair()
    const { current } = await watchAndCount(dir, Effect.sync(() => {
      fs.writeFileSync(path.join(dir, "tls.key"), c.keyPem)
      fs.writeFileSync(path.join(dir, "tls.crt"), c.certPem)
    }), (fp) => fp === fingerprintOf(c.certPem))
    expect(current).toBe(fingerprintOf(c.certPem))
  })

  it("fails fast when the pair is unreadable at start", async () => {
    const error = await Effect.runPromise(Effect.scoped(Effect.flip(watchCertDir(path.join(work, "missing")))))
    expect(error._tag).toBe("TlsError")
    expect(error.reason).toMatch(/^cannot read .*missing\/tls\.crt: ENOENT/)
  })
})
