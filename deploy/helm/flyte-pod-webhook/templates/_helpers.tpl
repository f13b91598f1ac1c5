{{/* Names and labels. Object names are fixed by values (name, secretName), as in deploy/base. */}}
{{- define "fpw.name" -}}{{ .Values.name }}{{- end -}}

{{- define "fpw.labels" -}}
app.kubernetes.io/name: flyte-pod-webhook
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: flyte
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* Selector labels: the same two as deploy/base. Call with (dict "component" "webhook") merged via include. */}}
{{- define "fpw.selector" -}}
app.kubernetes.io/name: flyte-pod-webhook
app.kubernetes.io/component: webhook
{{- end -}}

{{- define "fpw.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* Who writes the registration's caBundle: webhook (it registers itself, or gitops.caBundleFrom=webhook) or
cainjector (gitops.enabled with the default caBundleFrom). */}}
{{- define "fpw.caBundleFrom" -}}
{{- if .Values.gitops.enabled }}{{ .Values.gitops.caBundleFrom | default "cainjector" }}{{ else }}webhook{{ end }}
{{- end -}}

{{/* Keys the chart sets from its own values or that the manifests depend on; `config` may not set them. */}}
{{- define "fpw.ownedKeys" -}}
certDir certSource listenPort probePort serviceName servicePort secretName secretManagerType secretManagerTypes awsSecretManager gcpSecretManager azureSecretManager vaultSecretManager failurePolicy timeoutSeconds namespaceSelector drainDelay shutdownTimeout disableCreateMutatingWebhookConfig manageCaBundleOnly webhookUrl
{{- end -}}

{{/*
The config file, in Flyte's format. The chart's own keys first, then `config` merged in (after the check
that it sets none of them).
*/}}
{{- define "fpw.config" -}}
{{- range $key := splitList " " (include "fpw.ownedKeys" .) }}
{{- if hasKey $.Values.config $key }}
{{- fail (printf "config.%s is set by the chart; use its own value (see values.yaml) instead of `config`" $key) }}
{{- end }}
{{- end }}
{{- $w := dict
  "certDir" "/etc/webhook/certs"
  "listenPort" 9443
  "probePort" 10254
  "serviceName" (include "fpw.name" .)
  "servicePort" 443
  "secretName" .Values.secretName
  "failurePolicy" .Values.failurePolicy
  "timeoutSeconds" .Values.timeoutSeconds
  "drainDelay" (printf "%vs" .Values.drainDelaySeconds)
  "shutdownTimeout" (printf "%vs" .Values.shutdownTimeoutSeconds)
}}
{{- if .Values.secretManager.types }}
{{- $_ := set $w "secretManagerTypes" .Values.secretManager.types }}
{{- else }}
{{- $_ := set $w "secretManagerType" .Values.secretManager.type }}
{{- end }}
{{- with .Values.secretManager.aws }}{{ $_ := set $w "awsSecretManager" . }}{{ end }}
{{- with .Values.secretManager.gcp }}{{ $_ := set $w "gcpSecretManager" . }}{{ end }}
{{- with .Values.secretManager.azure }}{{ $_ := set $w "azureSecretManager" . }}{{ end }}
{{- with .Values.secretManager.vault }}{{ $_ := set $w "vaultSecretManager" . }}{{ end }}
{{- with .Values.namespaceSelector }}{{ $_ := set $w "namespaceSelector" . }}{{ end }}
{{- if .Values.gitops.enabled }}
{{- $_ := set $w "disableCreateMutatingWebhookConfig" true }}
{{- if eq (include "fpw.caBundleFrom" .) "webhook" }}
{{- $_ := set $w "manageCaBundleOnly" true }}
{{- end }}
{{- end }}
{{- $w = mustMergeOverwrite $w (deepCopy .Values.config) }}
{{- $s := dict "secrets-prefix" .Values.secrets.secretsPrefix "env-prefix" .Values.secrets.envPrefix }}
{{- toYaml (dict "webhook" $w "secrets" $s) }}
{{- end -}}

{{/* terminationGracePeriodSeconds: drain + shutdown + 5 s of margin, so the webhook exits before SIGKILL. */}}
{{- define "fpw.gracePeriod" -}}
{{ add .Values.drainDelaySeconds .Values.shutdownTimeoutSeconds 5 }}
{{- end -}}

{{/* POD_NAMESPACE / POD_NAME from the downward API. */}}
{{- define "fpw.podEnv" -}}
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
{{- end -}}

{{/* A hook-scoped copy of the config for the init-certs and unregister Jobs, which run while the release's
own ConfigMap does not exist (before install, after delete). */}}
{{- define "fpw.hookConfigMap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .name }}
  namespace: {{ .root.Release.Namespace }}
  labels:
    {{- include "fpw.labels" .root | nindent 4 }}
    app.kubernetes.io/component: {{ .component }}
  annotations:
    helm.sh/hook: {{ .hook }}
    helm.sh/hook-weight: "-10"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
data:
  config.yaml: |
    {{- include "fpw.config" .root | nindent 4 }}
{{- end -}}

{{/* init-certs' Role and RoleBinding (secrets: get/update by name, create), as hook objects of `hook`. */}}
{{- define "fpw.initCertsRbac" -}}
{{- $root := .root -}}
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: {{ .name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "fpw.labels" $root | nindent 4 }}
    app.kubernetes.io/component: init-certs
  annotations:
    helm.sh/hook: {{ .hook }}
    helm.sh/hook-weight: "-10"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
rules:
  - apiGroups: [""]
    resources: ["secrets"]
    resourceNames: [{{ $root.Values.secretName | quote }}]
    verbs: ["get", "update"]
  - apiGroups: [""]
    resources: ["secrets"]
    verbs: ["create"] # a POST has no name in its URL: resourceNames cannot restrict create
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: {{ .name }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "fpw.labels" $root | nindent 4 }}
    app.kubernetes.io/component: init-certs
  annotations:
    helm.sh/hook: {{ .hook }}
    helm.sh/hook-weight: "-9"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: {{ .name }}
subjects:
  - kind: ServiceAccount
    name: {{ .name }}
    namespace: {{ $root.Release.Namespace }}
{{- end -}}

{{/* The init-certs hook Job's pod spec. Args: root, serviceAccount, configMap. */}}
{{- define "fpw.initCertsPodSpec" -}}
{{- $root := .root -}}
serviceAccountName: {{ .serviceAccount }}
automountServiceAccountToken: true
enableServiceLinks: false
restartPolicy: Never
{{- with $root.Values.priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- with $root.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml $root.Values.podSecurityContext | nindent 2 }}
{{- with $root.Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with $root.Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
containers:
  - name: init-certs
    image: {{ include "fpw.image" $root }}
    imagePullPolicy: {{ $root.Values.image.pullPolicy }}
    args: ["init-certs", "--config", "/etc/flyte/config/config.yaml"]
    env:
      {{- include "fpw.podEnv" $root | nindent 6 }}
    resources:
      {{- toYaml $root.Values.initCerts.resources | nindent 6 }}
    securityContext:
      {{- toYaml $root.Values.containerSecurityContext | nindent 6 }}
    volumeMounts:
      - name: config
        mountPath: /etc/flyte/config
        readOnly: true
      - name: tmp
        mountPath: /tmp
volumes:
  - name: config
    configMap:
      name: {{ .configMap }}
  - name: tmp
    emptyDir:
      sizeLimit: 16Mi
{{- end -}}
