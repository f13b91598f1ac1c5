#!/usr/bin/env bash
# render.sh: render every install variant to plain YAML, ready for `kubectl apply --server-side [--dry-run=server]`.
#
#   bash deploy/render.sh OUT_DIR [NAMESPACE]        (NAMESPACE default: flyte)
#
# Writes OUT_DIR/{kustomize-base,kustomize-ha,kustomize-gitops,kustomize-network-policy,helm-default,helm-ha,
# helm-gitops,helm-network-policy}.yaml. The network-policy variants are the base plus
# deploy/components/network-policy (its peer as shipped: a placeholder) / networkPolicy.enabled with an example peer.
# The namespace must exist before applying (none of these creates it; deploy/components/namespace does).
# Tools: $KUBECTL and $HELM, else kubectl / helm from the end-to-end build cache (test/e2e/tools/build.sh),
# else from PATH.
set -euo pipefail

DEPLOY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(dirname "$DEPLOY")"
OUT="${1:?usage: render.sh OUT_DIR [NAMESPACE]}"
NS="${2:-flyte}"

tool() { # tool <name>: $<NAME>, the build cache, PATH
  local var; var="$(tr '[:lower:]' '[:upper:]' <<< "$1")"
  if [[ -n "${!var:-}" ]]; then printf '%s\n' "${!var}"; return; fi
  local cached cache="${E2E_BIN_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flyte-pod-webhook/e2e-bin}"
  for cached in "$cache"/*/"$1" "$REPO"/.cache/e2e-bin/*/"$1"; do
    if [[ -x "$cached" && -f "$(dirname "$cached")/stamp" ]]; then printf '%s\n' "$cached"; return; fi
  done
  command -v "$1" || { echo "render.sh: $1 not found (set $var, or run test/e2e/tools/build.sh)" >&2; exit 1; }
}
KUBECTL="$(tool kubectl)"
HELM="$(tool helm)"
mkdir -p "$OUT"

# Kustomize: the variants as shipped, re-targeted at NAMESPACE by a throwaway overlay (namespace + the
# replacements that point the GitOps registration and its cainjector source at the Service's namespace; see
# overlays/gitops).
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
for variant in base overlays/ha overlays/gitops base+components/network-policy; do
  resource="${variant%%+*}"
  component="${variant#"$resource"}"; component="${component#+}"
  name="kustomize-$(basename "${component:-$resource}")"
  mkdir -p "$WORK/$name"
  cat > "$WORK/$name/kustomization.yaml" <<YAML
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
namespace: $NS
resources:
  - $(realpath --relative-to="$WORK/$name" "$DEPLOY/$resource")
components: [${component:+$(realpath --relative-to="$WORK/$name" "$DEPLOY/$component")}]
replacements:
  - source: {kind: Service, name: flyte-pod-webhook, fieldPath: metadata.namespace}
    targets:
      - select: {kind: MutatingWebhookConfiguration, name: flyte-pod-webhook}
        fieldPaths: [webhooks.*.clientConfig.service.namespace]
        options: {create: false}
      - select: {kind: MutatingWebhookConfiguration, name: flyte-pod-webhook}
        fieldPaths: ["metadata.annotations.[cert-manager.io/inject-ca-from-secret]"]
        options: {delimiter: "/", index: 0}
YAML
  "$KUBECTL" kustomize "$WORK/$name" > "$OUT/$name.yaml"
done

CHART="$DEPLOY/helm/flyte-pod-webhook"
"$HELM" template flyte-pod-webhook "$CHART" --namespace "$NS" > "$OUT/helm-default.yaml"
"$HELM" template flyte-pod-webhook "$CHART" --namespace "$NS" \
  --set autoscaling.enabled=true --set spreadReplicas=true --set podDisruptionBudget.minAvailable=2 > "$OUT/helm-ha.yaml"
"$HELM" template flyte-pod-webhook "$CHART" --namespace "$NS" --set gitops.enabled=true > "$OUT/helm-gitops.yaml"
"$HELM" template flyte-pod-webhook "$CHART" --namespace "$NS" --set networkPolicy.enabled=true \
  --set-json 'networkPolicy.apiServerPeers=[{"ipBlock":{"cidr":"172.16.0.0/28"}}]' > "$OUT/helm-network-policy.yaml"
ls -1 "$OUT"/*.yaml
