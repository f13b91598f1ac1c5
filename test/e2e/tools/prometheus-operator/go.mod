// Pins the Prometheus Operator's module only for its CRD manifests (example/prometheus-operator-crd), which
// build.sh copies next to the binaries; nothing here is compiled. v0.85.0 is the version the module proxy
// serves for this module path.
module github.com/flyte-pod-webhook/e2e-tools/prometheus-operator

go 1.26.0

require github.com/prometheus-operator/prometheus-operator v0.85.0
