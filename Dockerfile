# syntax=docker/dockerfile:1
# flyte-pod-webhook container image, for those with a container engine:
#   docker build --build-arg REVISION=$(git rev-parse HEAD) --build-arg SOURCE=<repository URL> \
#     -t <registry>/flyte-pod-webhook:0.1.0 .
# Without an engine, deploy/image/build.sh builds the same layout (deploy/image/Layout.ts) from Debian packages
# into a reproducible OCI archive; test/deploy/image*.test.ts hold this file and that archive to it.
#
# Node 24 runs the TypeScript sources directly (type stripping), so there is no build step: the image is the
# production dependencies plus src/ and bin/. Node refuses to strip types from files under node_modules/,
# which is why the app lives in /app and is not installed as a package.
# deploy/image/verify-recipe.sh runs this file's install and start commands without a container engine.
# The Node release is the one package-lock.json pins for the `node` devDependency (what the tests run on).
FROM node:24.21.0-bookworm-slim

ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=""
LABEL org.opencontainers.image.title="flyte-pod-webhook" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"

# The non-root user the manifests also require (runAsUser 65532). The app's files stay owned by root, so the
# process cannot change them.
RUN groupadd --gid 65532 nonroot \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin nonroot

ENV NODE_ENV=production
# V8's heap sizes, fixed rather than derived from the memory Node sees (a 24 GiB host: 32 MiB semi-spaces and
# a 4 GiB old generation; a Pod limited to 512Mi: 1 MiB and 256 MiB), so that a Pod, a laptop and the
# benchmark run one configuration. 8 MiB semi-spaces: a third less peak RSS than the host default at the same
# throughput on task Pods (2 MiB ones save as much but cost a fifth or more on 1 MiB Pods). 256 MiB of old
# generation: what Node picks in any Pod limited to 1 GiB or less (against 4 GiB it costs ~20 % on 1 MiB
# Pods). Figures: docs/serve.md, "Memory". The manifests set the same value and size their memory limit on
# it; bench/run.ts reads this line.
ENV NODE_OPTIONS="--max-semi-space-size=8 --max-old-space-size=256"
WORKDIR /app

# Production dependencies only, exactly as locked. No dependency has an install script (the one that does,
# the `node` devDependency, is omitted), so scripts stay off. npm's folder goes with its cache and its logs
# (`npm cache clean` would leave the logs of this install behind).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && rm -rf "$(npm config get cache)"

COPY bin/ ./bin/
COPY src/ ./src/

USER 65532:65532
# 9443: HTTPS admission (webhook.listenPort); 10254: /healthz /readyz /metrics (webhook.probePort).
EXPOSE 9443 10254
ENTRYPOINT ["node", "bin/flyte-pod-webhook.js"]
CMD ["serve", "--config", "/etc/flyte/config/config.yaml"]
