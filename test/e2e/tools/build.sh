#!/usr/bin/env bash
# Builds the end-to-end control-plane binaries (etcd, kube-apiserver, kubectl, helm) and the observability
# test tools (promtool; the Prometheus Operator's CRDs in crds/) from the Go modules pinned in this folder,
# into a cache folder keyed by a hash of the pins:
#
#   ${XDG_CACHE_HOME:-~/.cache}/flyte-pod-webhook/e2e-bin/<key>/{etcd,kube-apiserver,kubectl,helm,promtool,crds/,stamp}
#
# Prints that folder (one line, on stdout; logs go to stderr). When the folder already has its
# `stamp`, nothing is built. Usage:  BIN_DIR="$(bash test/e2e/tools/build.sh)"
#
# Environment:
#   E2E_BIN_CACHE  root of the cache (default ${XDG_CACHE_HOME:-~/.cache}/flyte-pod-webhook/e2e-bin, outside
#                  the work tree so fresh clones on the same machine reuse the binaries)
#   GO             the go command (default: `go` on PATH, else /usr/local/go/bin/go).
set -euo pipefail

TOOLS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$TOOLS_DIR/../../.." && pwd)"
CACHE_ROOT="${E2E_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flyte-pod-webhook/e2e-bin}"

# Pinned versions (must match go.mod files; used for version stamping via -ldflags -X).
K8S_VERSION="v1.37.2"
ETCD_VERSION="v3.7.3"
HELM_VERSION="v3.22.0"
MIN_GO_MINOR=26

log() { printf 'build.sh: %s\n' "$*" >&2; }

# --- the Go toolchain ---------------------------------------------------------------------------
GO="${GO:-}"
if [[ -z "$GO" ]]; then
  if command -v go >/dev/null 2>&1; then GO="$(command -v go)"
  elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
  fi
fi
if [[ -z "$GO" ]] || ! "$GO" version >/dev/null 2>&1; then
  cat >&2 <<EOF
build.sh: the Go toolchain was not found (looked for 'go' on PATH and /usr/local/go/bin/go).
build.sh: install Go >= 1.${MIN_GO_MINOR} (e.g. the go1.26.x linux tarball from go.dev/dl unpacked
build.sh: into /usr/local/go, then add /usr/local/go/bin to PATH), or set GO=/path/to/go.
build.sh: Debian's golang-go package is too old for these modules.
EOF
  exit 127
fi
GOVERSION="$("$GO" env GOVERSION)"          # e.g. go1.26.8
if [[ "$GOVERSION" =~ ^go1\.([0-9]+) ]] && (( BASH_REMATCH[1] < MIN_GO_MINOR )) \
   && [[ "$("$GO" env GOTOOLCHAIN)" == local* ]]; then
  log "$GOVERSION is too old: install Go >= 1.${MIN_GO_MINOR} (or allow GOTOOLCHAIN=auto)."
  exit 127
fi

# --- the cache key: hash of every go.mod/go.sum, this script and the Go version ------------------
MODULE_DIRS=("$TOOLS_DIR" "$TOOLS_DIR/etcd" "$TOOLS_DIR/helm")
MODULE_DIRS+=("$TOOLS_DIR/promtool" "$TOOLS_DIR/prometheus-operator") # observability pack (issue 13)
KEY="$(
  {
    for d in "${MODULE_DIRS[@]}"; do
      for f in go.mod go.sum; do
        printf '%s\n' "${d#"$TOOLS_DIR"}/$f"; cat "$d/$f"
      done
    done
    cat "$TOOLS_DIR/build.sh"
    printf '%s %s/%s\n' "$GOVERSION" "$("$GO" env GOOS)" "$("$GO" env GOARCH)"
  } | sha256sum | cut -c1-16
)"
OUT="$CACHE_ROOT/$KEY"

if [[ -f "$OUT/stamp" ]]; then
  printf '%s\n' "$OUT"
  exit 0
fi

mkdir -p "$CACHE_ROOT"
# Serialize concurrent builds (e.g. parallel test workers) on the same cache.
exec 9>"$CACHE_ROOT/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi
if [[ -f "$OUT/stamp" ]]; then   # another process finished it while we waited
  printf '%s\n' "$OUT"
  exit 0
fi

TMP="$CACHE_ROOT/.tmp-$KEY-$$"
rm -rf "$TMP"
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT

export CGO_ENABLED=0
export GOFLAGS="-mod=readonly -buildvcs=false"
START=$SECONDS

build() {  # build <module dir> <-o target> <ldflags extra> <packages...>
  local dir="$1" out="$2" xflags="$3"; shift 3
  log "building $* (in ${dir#"$REPO_ROOT"/})"
  (cd "$dir" && "$GO" build -trimpath -ldflags="-s -w$xflags" -o "$out" "$@")
}

k8s_minor="${K8S_VERSION#v1.}"; k8s_minor="${k8s_minor%%.*}"
K8S_X=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  K8S_X+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
  K8S_X+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

build "$TOOLS_DIR" "$TMP/" "$K8S_X" k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
build "$TOOLS_DIR/etcd" "$TMP/etcd" "" go.etcd.io/etcd/server/v3
build "$TOOLS_DIR/helm" "$TMP/helm" " -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean" \
  helm.sh/helm/v3/cmd/helm

# Observability pack (issue 13): promtool for `promtool test rules`, and the Prometheus Operator's CRDs
# (ServiceMonitor, PrometheusRule) for server-side dry runs; the CRDs come from the module's zip, verified
# against prometheus-operator/go.sum.
build "$TOOLS_DIR/promtool" "$TMP/promtool" "" github.com/prometheus/prometheus/cmd/promtool
OPERATOR_DIR="$(cd "$TOOLS_DIR/prometheus-operator" && "$GO" mod download -json github.com/prometheus-operator/prometheus-operator \
  | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
mkdir -p "$TMP/crds"
for crd in servicemonitors prometheusrules; do
  cp "$OPERATOR_DIR/example/prometheus-operator-crd/monitoring.coreos.com_$crd.yaml" "$TMP/crds/"
done

for b in etcd kube-apiserver kubectl helm promtool; do
  [[ -x "$TMP/$b" ]] || { log "missing binary $b after build"; exit 1; }
done
{
  echo "key=$KEY"
  echo "go=$GOVERSION"
  echo "kubernetes=$K8S_VERSION etcd=$ETCD_VERSION helm=$HELM_VERSION prometheus=v0.316.0 prometheus-operator=v0.85.0"
  echo "build_seconds=$((SECONDS - START))"
} > "$TMP/stamp"

rm -rf "$OUT"
mv "$TMP" "$OUT"
trap - EXIT
log "built in $((SECONDS - START))s"
printf '%s\n' "$OUT"
