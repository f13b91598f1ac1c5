import { defineConfig } from "vitest/config"

// Two projects: fast unit/integration tests (fakes, in-process servers) and the end-to-end suite that runs
// a real kube-apiserver + etcd built from Go modules (test/e2e). `npm test` runs both.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["test/e2e/**", "node_modules/**"],
          testTimeout: 30_000,
          hookTimeout: 60_000
        }
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          // Builds the control plane (Go) and starts etcd + kube-apiserver once for the whole run; SKIP_E2E=1 skips.
          globalSetup: ["test/e2e/globalSetup.ts"],
          testTimeout: 120_000,
          hookTimeout: 900_000,
          fileParallelism: false
        }
      }
    ]
  }
})
