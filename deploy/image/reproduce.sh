#!/usr/bin/env bash
# reproduce.sh: build the image twice from nothing (build.sh --no-cache: a fresh cache each time, so the Debian
# packages are resolved and installed, the Node package fetched, npm ci run and every layer made anew) and
# compare the two: the image digest, the archive's sha256 and the SBOM must be identical.
#
# Usage:  bash deploy/image/reproduce.sh [OUT_DIR]     (default: a temporary folder, removed afterwards)
# Prints: both digests and each build's time; exit 0 when identical, 1 when not (with the differing layers).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
IMAGE_LOG_PREFIX=reproduce.sh
# shellcheck source=tools.sh
source "$HERE/tools.sh"

OUT="${1:-}"
if [[ -z "$OUT" ]]; then
  OUT="$(mktemp -d /tmp/flyte-pod-webhook-reproduce.XXXXXX)"
  trap 'rm -rf "$OUT"' EXIT
fi
for run in first second; do
  started=$SECONDS
  bash "$HERE/build.sh" --no-cache --out "$OUT/$run" > /dev/null
  log "$run build: $(( SECONDS - started )) s, image $(jq -r .manifestDigest "$OUT/$run/build.json")"
done
same=1
for field in manifestDigest configDigest archiveSha256; do
  a="$(jq -r ".$field" "$OUT/first/build.json")"; b="$(jq -r ".$field" "$OUT/second/build.json")"
  if [[ "$a" == "$b" ]]; then log "$field identical: $a"; else log "$field DIFFERS: $a vs $b"; same=0; fi
done
cmp -s "$OUT/first/sbom.cdx.json" "$OUT/second/sbom.cdx.json" && log "SBOM identical" || { log "SBOM DIFFERS"; same=0; }
if [[ "$same" != 1 ]]; then
  jq -c '.layers[] | {name, diffId}' "$OUT/first/build.json" "$OUT/second/build.json" >&2
  # A different Debian layer with different package versions is the mirror moving between the builds (an
  # input that changed), not the build: say which.
  diff "$OUT/first/debian-packages.tsv" "$OUT/second/debian-packages.tsv" >&2 && log "same Debian package versions" || true
  log "FAIL: the two builds differ"
  exit 1
fi
log "PASS: two builds from nothing gave the same image"
