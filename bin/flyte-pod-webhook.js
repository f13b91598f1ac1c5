#!/usr/bin/env node
// The CLI entry. Node 24 runs the TypeScript sources directly (type stripping); npm scripts and `npx` put the
// pinned Node 24 of the `node` devDependency first on PATH, and the container image is Node 24 itself. This
// file is plain JavaScript that any Node can read, so an older one (a system Node running the line `npm start`
// echoes) gets this message instead of a stack trace about `.ts` files.
const [major] = process.versions.node.split(".").map(Number)
if (major < 24) {
  console.error(
    `flyte-pod-webhook needs Node.js 24 or newer; this is ${process.version} (${process.execPath}).\n` +
      "npm scripts and npx run the Node 24 that `npm ci` installed: use `npm start` or `npx flyte-pod-webhook <command>`."
  )
  process.exit(2)
}
await import("../src/main.ts")
