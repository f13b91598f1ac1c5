#!/usr/bin/env bash
# unpack.sh: the image's root file system and config, unpacked once per image digest with umoci (which applies
# the layers in order, whiteouts included) into ~/.cache/flyte-pod-webhook/image/unpacked/<digest>/:
#   rootfs/             the root file system (files owned as in the image: needs root)
#   image-config.json   the image config (entrypoint, command, env, working directory, user, labels)
# run.sh starts containers over it (read-only, through an overlay); the image tests read it. The three most
# recently used images are kept.
#
# Usage:  bash deploy/image/unpack.sh [ARCHIVE]     (default .local/image/flyte-pod-webhook.oci.tar)
# Prints: the folder on stdout. Exit 3: cannot unpack here (not root, or umoci/jq cannot be installed).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
IMAGE_LOG_PREFIX=unpack.sh
# shellcheck source=tools.sh
source "$HERE/tools.sh"

ARCHIVE="${1:-$REPO/.local/image/flyte-pod-webhook.oci.tar}"
require_root "unpacking the image"
ensure_tools umoci:umoci jq:jq flock:util-linux
[[ -f "$ARCHIVE" ]] || die "no image archive at $ARCHIVE: build it with bash deploy/image/build.sh"

CACHE="$(image_cache_dir)"
mkdir -p "$CACHE/unpacked"
DIGEST="$(tar -xOf "$ARCHIVE" index.json | jq -r '.manifests[0].digest')"
REF="$(tar -xOf "$ARCHIVE" index.json | jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]')"
BUNDLE="$CACHE/unpacked/${DIGEST#sha256:}"
exec 8>"$CACHE/unpacked.lock"
flock 8
if [[ ! -f "$BUNDLE/image-config.json" ]]; then
  log "unpacking $DIGEST with umoci (once per image)"
  rm -rf --one-file-system "$BUNDLE.tmp" && mkdir -p "$BUNDLE.tmp/layout"
  tar -xf "$ARCHIVE" -C "$BUNDLE.tmp/layout"
  umoci unpack --image "$BUNDLE.tmp/layout:$REF" "$BUNDLE.tmp/bundle" >&2
  config="$(jq -r '.config.digest' "$BUNDLE.tmp/layout/blobs/sha256/${DIGEST#sha256:}")"
  cp "$BUNDLE.tmp/layout/blobs/sha256/${config#sha256:}" "$BUNDLE.tmp/image-config.json"
  mv "$BUNDLE.tmp/bundle/rootfs" "$BUNDLE.tmp/rootfs"
  rm -rf "$BUNDLE.tmp/layout" "$BUNDLE.tmp/bundle"
  mv "$BUNDLE.tmp" "$BUNDLE"
fi
touch "$BUNDLE"
find "$CACHE/unpacked" -mindepth 1 -maxdepth 1 -type d ! -name '*.tmp' -printf '%T@ %p\n' | sort -rn | tail -n +4 |
  cut -d' ' -f2- | while IFS= read -r old; do rm -rf --one-file-system "$old"; done
printf '%s\n' "$BUNDLE"
