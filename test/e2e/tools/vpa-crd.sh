#!/usr/bin/env bash
# Fetches the VerticalPodAutoscaler CRDs (deploy/vpa-v1-crd-gen.yaml of the Go module
# k8s.io/autoscaler/vertical-pod-autoscaler, pinned with its checksum in ./vpa/go.mod + go.sum) into the
# end-to-end cache, beside the binaries build.sh makes:
#
#   ${E2E_BIN_CACHE:-${XDG_CACHE_HOME:-~/.cache}/flyte-pod-webhook/e2e-bin}/vpa-<key>/vpa-v1-crd-gen.yaml
#
# Prints that file's path (one line, on stdout; logs on stderr). A second call copies nothing. The module
# proxy serves the module's source zip (about 4.6 MB), verified against go.sum; nothing is built.
# Usage:  CRD="$(bash test/e2e/tools/vpa-crd.sh)"      Environment: E2E_BIN_CACHE, GO (as build.sh).
set -euo pipefail

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODULE=k8s.io/autoscaler/vertical-pod-autoscaler
CACHE_ROOT="${E2E_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flyte-pod-webhook/e2e-bin}"

GO="${GO:-}"
if [[ -z "$GO" ]]; then
  if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  fi
fi
if [[ -z "$GO" ]] || ! "$GO" version >/dev/null 2>&1; then
  echo "vpa-crd.sh: the Go toolchain was not found (needed to fetch $MODULE; see build.sh)" >&2
  exit 127
fi

KEY="$(cat "$TOOLS_DIR/vpa/go.mod" "$TOOLS_DIR/vpa/go.sum" "$TOOLS_DIR/vpa-crd.sh" | sha256sum | cut -c1-16)"
OUT="$CACHE_ROOT/vpa-$KEY/vpa-v1-crd-gen.yaml"
if [[ -f "$OUT" ]]; then
  printf '%s\n' "$OUT"
  exit 0
fi

cd "$TOOLS_DIR/vpa"
export GOFLAGS="-mod=readonly"
"$GO" mod download "$MODULE" >&2
DIR="$("$GO" list -m -f '{{.Dir}}' "$MODULE")"
VERSION="$("$GO" list -m -f '{{.Version}}' "$MODULE")"
[[ -f "$DIR/deploy/vpa-v1-crd-gen.yaml" ]] || { echo "vpa-crd.sh: no deploy/vpa-v1-crd-gen.yaml in $DIR" >&2; exit 1; }
mkdir -p "$(dirname "$OUT")"
cp "$DIR/deploy/vpa-v1-crd-gen.yaml" "$OUT.tmp.$$"
chmod 0644 "$OUT.tmp.$$"
mv "$OUT.tmp.$$" "$OUT"
echo "vpa-crd.sh: $MODULE $VERSION -> $OUT" >&2
printf '%s\n' "$OUT"
