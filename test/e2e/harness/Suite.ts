/**
 * Suite: what every end-to-end test file uses: the context from the global setup, `describeE2e` (skipped, and
 * reported as skipped, under SKIP_E2E=1), a folder of its own inside the run's folder, an admin Api, and log
 * tails printed when a test fails (which also keeps the run's folder for a look afterwards).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, beforeEach, describe, inject } from "vitest"
import { Api } from "./Api.ts"
import "./Context.ts"
import type { ControlPlaneInfo } from "./ControlPlane.ts"
import { tail } from "./Processes.ts"

export const e2e = inject("e2e")

/** describeE2e: a describe block that is skipped (visibly) when the suite is. */
export const describeE2e = (name: string, body: () => void) => describe.skipIf(e2e.skip)(name, body)

/** control: the running control plane (only call inside describeE2e). */
export const control = (): ControlPlaneInfo => {
  if (e2e.skip) throw new Error(e2e.reason)
  return e2e
}

/** fileDir: a folder for one test file's configs, certificates and logs. */
export const fileDir = (name: string): string => {
  const dir = path.join(control().dir, name)
  fs.mkdirSync(dir, { recursive: true })
  return dir
}

/** adminApi: the admin client (close it in afterAll). */
export const adminApi = (): Api => {
  const ctx = control()
  return new Api(ctx.server, ctx.caFile, ctx.admin)
}

/** reportFailure: print the tails of the control plane's and these logs, and keep the run's folder. */
export const reportFailure = (logs: ReadonlyArray<string>): void => {
  if (e2e.skip) return
  fs.writeFileSync(path.join(e2e.dir, "FAILED"), "a test failed\n")
  console.error([...e2e.logs, ...logs].map((file) => `--- last lines of ${file}\n${tail(file, 30)}`).join("\n"))
}

/** showLogsOnFailure: when a test of this file fails, reportFailure with these logs. */
export const showLogsOnFailure = (logs: () => ReadonlyArray<string>) =>
  beforeEach(({ onTestFailed }) => {
    onTestFailed(() => reportFailure(logs()))
  })

/** beforeAllE2e: a beforeAll whose failure also reports the logs (vitest runs no test, so no onTestFailed). */
export const beforeAllE2e = (setup: () => Promise<void>, logs: () => ReadonlyArray<string>) =>
  beforeAll(async () => {
    try {
      await setup()
    } catch (error) {
      reportFailure(logs())
      throw error
    }
  })
