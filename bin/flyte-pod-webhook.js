#!/usr/bin/env node
// The CLI entry. Node 24 runs the TypeScript sources directly (type stripping); `npx` puts the pinned
// Node 24 from the `node` devDependency first on PATH, and the container image is Node 24 itself.
const [major] = process.versions.node.split(".").map(Number)
if (major < 24) {
  console.error(`flyte-pod-webhook needs Node.js 24 or newer (this is ${process.version}); run it through npx or npm scripts.`)
  process.exit(2)
}
await import("../src/main.ts")
