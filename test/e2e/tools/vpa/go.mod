module github.com/flyte-pod-webhook/e2e-tools/vpa

go 1.26.0

require k8s.io/autoscaler/vertical-pod-autoscaler v1.8.1
