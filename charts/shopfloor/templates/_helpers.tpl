{{/* The chart's name, at most 63 characters (a label value). */}}
{{- define "shopfloor.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The prefix of every object's name: the release name, with the chart's name unless it has it. */}}
{{- define "shopfloor.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The namespace of every namespaced object: the release's. The operator and the agents are told it
(POD_NAMESPACE, from the downward API), so the agents keep their node Leases where the operator
watches them.
*/}}
{{- define "shopfloor.namespace" -}}
{{- .Release.Namespace }}
{{- end }}

{{/* The labels of every object; `component` (operator, agent) is added by the caller. */}}
{{- define "shopfloor.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "shopfloor.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: shopfloor
{{- end }}

{{/* What a component's Deployment or DaemonSet selects its pods by: (dict "root" $ "component" "agent"). */}}
{{- define "shopfloor.selectorLabels" -}}
app.kubernetes.io/name: {{ include "shopfloor.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* A component's labels: (dict "root" $ "component" "agent"). */}}
{{- define "shopfloor.componentLabels" -}}
{{ include "shopfloor.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* A component's object names: (dict "root" $ "component" "agent"). */}}
{{- define "shopfloor.componentName" -}}
{{- printf "%s-%s" (include "shopfloor.fullname" .root | trunc 54 | trimSuffix "-") .component }}
{{- end }}

{{/* The ServiceAccount a component runs as: (dict "root" $ "component" "agent"). */}}
{{- define "shopfloor.serviceAccountName" -}}
{{- $sa := (index .root.Values .component).serviceAccount }}
{{- if $sa.create }}
{{- default (include "shopfloor.componentName" .) $sa.name }}
{{- else }}
{{- default "default" $sa.name }}
{{- end }}
{{- end }}

{{/* A component's image reference: (dict "root" $ "component" "agent"). */}}
{{- define "shopfloor.image" -}}
{{- $image := (index .root.Values .component).image }}
{{- printf "%s:%s" $image.repository (default .root.Chart.AppVersion $image.tag) }}
{{- end }}

{{/*
The ClusterRoleBinding and RoleBinding of a component's ServiceAccount to its ClusterRole and
Role of the same name: (dict "root" $ "component" "agent").
*/}}
{{- define "shopfloor.roleBindings" -}}
{{- $name := include "shopfloor.componentName" . }}
{{- range $kind := list "ClusterRole" "Role" }}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: {{ $kind }}Binding
metadata:
  name: {{ $name }}
  {{- if eq $kind "Role" }}
  namespace: {{ include "shopfloor.namespace" $.root }}
  {{- end }}
  labels:
    {{- include "shopfloor.componentLabels" $ | nindent 4 }}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: {{ $kind }}
  name: {{ $name }}
subjects:
  - kind: ServiceAccount
    name: {{ include "shopfloor.serviceAccountName" $ }}
    namespace: {{ include "shopfloor.namespace" $.root }}
{{- end }}
{{- end }}
