/**
 * Context: what the global setup hands every end-to-end test file (vitest `provide` / `inject`): either the
 * running control plane, or the explicit reason the suite is skipped (SKIP_E2E=1).
 */
import type { ControlPlaneInfo } from "./ControlPlane.ts"

export type E2eContext =
  | { readonly skip: true; readonly reason: string }
  | ({ readonly skip: false } & ControlPlaneInfo)

declare module "vitest" {
  export interface ProvidedContext {
    e2e: E2eContext
  }
}
