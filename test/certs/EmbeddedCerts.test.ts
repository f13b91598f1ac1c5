/**
 * `serve --embedded` certificates on disk (issue 10, finding 5): whatever modes a previous run, an editor or a
 * umask left behind, the key file ends 0600 and its folder 0700, both when the files are regenerated and when
 * usable ones are kept.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll } from "vitest"
import { ensureEmbeddedCerts, issueServing, makeCa } from "../../src/cli/EmbeddedCerts.ts"

const work = fs.mkdtempSync(path.join(os.tmpdir(), "fpw-embedded-"))
afterAll(() => fs.rmSync(work, { recursive: true, force: true }))

const mode = (file: string) => fs.statSync(file).mode & 0o777
const octal = (n: number) => n.toString(8).padStart(4, "0")

/** wide: a folder 0777 holding the three files, every one 0644 (chmod after writing: the umask cannot narrow it). */
const wide = (dir: string, files: { readonly ca: string; readonly cert: string; readonly key: string }) => {
  fs.mkdirSync(dir, { recursive: true })
  fs.chmodSync(dir, 0o777)
  for (const [name, text] of [["ca.crt", files.ca], ["tls.crt", files.cert], ["tls.key", files.key]] as const) {
    fs.writeFileSync(path.join(dir, name), text)
    fs.chmodSync(path.join(dir, name), 0o644)
  }
}

const expectPrivate = (dir: string) => {
  assert.strictEqual(octal(mode(dir)), "0700", "the folder")
  assert.strictEqual(octal(mode(path.join(dir, "tls.key"))), "0600", "tls.key")
  for (const name of ["ca.crt", "tls.crt"]) assert.strictEqual(mode(path.join(dir, name)) & 0o022, 0, `${name} not writable by others`)
}

describe("ensureEmbeddedCerts", () => {
  it.effect("regenerating over a 0644 key in a 0777 folder leaves the key 0600 and the folder 0700", () =>
    Effect.gen(function*() {
      const dir = path.join(work, "regenerate")
      wide(dir, { ca: "not a certificate", cert: "not a certificate", key: "not a key" })
      const result = yield* ensureEmbeddedCerts(dir)
      assert.isTrue(result.created)
      expectPrivate(dir)
      assert.notStrictEqual(fs.readFileSync(path.join(dir, "tls.key"), "utf8"), "not a key")
    }))

  it.effect("keeping usable files whose modes are wide narrows them too", () =>
    Effect.gen(function*() {
      const dir = path.join(work, "keep")
      const ca = makeCa()
      const serving = issueServing(ca, { dns: ["localhost"], ips: ["127.0.0.1"] })
      wide(dir, { ca: ca.certPem, cert: serving.certPem, key: serving.keyPem })
      const result = yield* ensureEmbeddedCerts(dir)
      assert.isFalse(result.created, "usable files are kept")
      assert.strictEqual(fs.readFileSync(path.join(dir, "tls.key"), "utf8"), serving.keyPem)
      expectPrivate(dir)
    }))

  it.effect("a fresh folder is made 0700 with a 0600 key", () =>
    Effect.gen(function*() {
      const dir = path.join(work, "fresh", "certs")
      assert.isTrue((yield* ensureEmbeddedCerts(dir)).created)
      expectPrivate(dir)
    }))
})
