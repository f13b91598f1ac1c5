/**
 * PosixPath and SecretFile: Go's path.Clean, pinned by vectors printed by Go 1.26's filepath.Clean on this machine
 * (a throwaway `go run`, outputs pasted here), and the file flytekit reads for each shape of user-given parts.
 */
import { assert, describe, it } from "vitest"
import { cleanPath, isWithin, parentPath } from "../../src/domain/PosixPath.ts"
import { secretFile } from "../../src/domain/SecretFile.ts"

describe("cleanPath is Go's path.Clean", () => {
  it.each([
    ["", "."], ["abc", "abc"], [".", "."], ["..", ".."], ["../..", "../.."], ["/", "/"], ["abc/", "abc"], ["./", "."],
    ["../", ".."], ["//abc//", "/abc"], ["abc//def//ghi", "abc/def/ghi"], ["abc/./def", "abc/def"], ["/./abc/def", "/abc/def"],
    ["abc/.", "abc"], ["abc/def/../ghi/../jkl", "abc/jkl"], ["abc/def/../..", "."], ["/abc/def/../..", "/"],
    ["abc/def/../../..", ".."], ["/abc/def/../../..", "/"], ["abc/def/../../../ghi/jkl/../../../mno", "../../mno"],
    ["abc/../../././../def", "../../def"]
  ])("%j -> %j", (input, expected) => assert.strictEqual(cleanPath(input), expected))
})

describe("parentPath and isWithin", () => {
  it("walks up to /", () => {
    assert.deepStrictEqual([parentPath("/a/b"), parentPath("/a"), parentPath("/")], ["/a", "/", undefined])
  })
  it("a folder contains itself and what is below it, not a sibling with the same prefix", () => {
    assert.isTrue(isWithin("/etc/flyte/secrets", "/etc/flyte/secrets"))
    assert.isTrue(isWithin("/etc/flyte/secrets/g/k", "/etc/flyte/secrets"))
    assert.isFalse(isWithin("/etc/flyte/secrets-other/k", "/etc/flyte/secrets"))
    assert.isTrue(isWithin("/x", "/"))
  })
})

describe("secretFile: where flytekit reads a secret built from group, version and key", () => {
  it.each([
    [["db-creds", "password"], "/etc/flyte/secrets/db-creds/password"],
    [["team/db/", "Password"], "/etc/flyte/secrets/team/db/password"], // Go: filepath.Join("/", "team/db/", "password")
    [["./db-creds", "k"], "/etc/flyte/secrets/db-creds/k"],
    [["a//b", "", "k"], "/etc/flyte/secrets/a/b/k"],
    [["https:", "V1"], "/etc/flyte/secrets/https:/v1"]
  ])("%j -> %s", (parts, expected) => assert.deepStrictEqual(secretFile(parts), { _tag: "File", path: expected }))

  it.each([
    [["../x", "k"], 'the path "../x/k" has a ".." element, so flytekit would look for another file'],
    [["x/..", "k"], 'the path "x/../k" has a ".." element, so flytekit would look for another file'],
    [["/abs", "k"], 'the path "/abs/k" has a part starting with "/", so flytekit would look outside /etc/flyte/secrets'],
    [["g", "/k"], 'the path "g//k" has a part starting with "/", so flytekit would look outside /etc/flyte/secrets'],
    [["g", "k/"], 'the path "g/k/" names a folder, not a file'],
    [["g", "k/."], 'the path "g/k/." names a folder, not a file'],
    [["g", "."], 'the path "g/." names a folder, not a file']
  ])("%j refused: %s", (parts, reason) => assert.deepStrictEqual(secretFile(parts), { _tag: "Refused", reason }))
})
