# syntax=docker/dockerfile:1
# flyte-pod-webhook container image:  docker build -t <registry>/flyte-pod-webhook:0.1.0 .
#
# Node 24 runs the TypeScript sources directly (type stripping), so there is no build step: the image is the
# production dependencies plus src/ and bin/. Node refuses to strip types from files under node_modules/,
# which is why the app lives in /app and is not installed as a package.
# deploy/image/verify-recipe.sh runs this file's install and start commands without a container engine.
FROM node:24-bookworm-slim

# The non-root user the manifests also require (runAsUser 65532). The app's files stay owned by root, so the
# process cannot change them.
RUN groupadd --gid 65532 nonroot \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin nonroot

ENV NODE_ENV=production
WORKDIR /app

# Production dependencies only, exactly as locked. No dependency has an install script (the one that does,
# the `node` devDependency, is omitted), so scripts stay off.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

COPY bin/ ./bin/
COPY src/ ./src/

USER 65532:65532
# 9443: HTTPS admission (webhook.listenPort); 10254: /healthz /readyz /metrics (webhook.probePort).
EXPOSE 9443 10254
ENTRYPOINT ["node", "bin/flyte-pod-webhook.js"]
CMD ["serve", "--config", "/etc/flyte/config/config.yaml"]
