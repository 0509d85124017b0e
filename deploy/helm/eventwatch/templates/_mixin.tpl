{{/*
The mixin parameters of the generated rules and dashboards
(internal/mixin): files/mixin holds them with placeholder tokens, written
by `make generate`; these helpers fill the tokens from monitoring.*.
*/}}

{{/*
The selector of eventwatch's series: what the chart's ServiceMonitor gives
them (job = the Service name, namespace = the release namespace) unless
monitoring.selector says otherwise.
*/}}
{{- define "eventwatch.mixinSelector" -}}
{{- if .Values.monitoring.selector }}
{{- .Values.monitoring.selector | trim | trimSuffix "," | trim }}
{{- else }}
{{- printf "job=%q,namespace=%q" (include "eventwatch.fullname" .) .Release.Namespace }}
{{- end }}
{{- end }}

{{/*
eventwatch.mixinFill replaces the tokens in a JSON document from files/mixin:
(dict "root" $ "text" <file content>). The selector is JSON-escaped, as Go's
mixin.Params.Fill does for JSON files.
*/}}
{{- define "eventwatch.mixinFill" -}}
{{- $v := .root.Values.monitoring }}
{{- $sel := include "eventwatch.mixinSelector" .root | toJson | trimPrefix "\"" | trimSuffix "\"" }}
{{- .text | replace "__EW_SELECTOR__" $sel | replace "__EW_LABELS__" (join ", " $v.deploymentLabels) | replace "__EW_CLUSTER__" $v.clusterLabel }}
{{- end }}

{{/*
Dashboards are per release (their queries carry this release's selector):
each uid is the generated one plus a suffix unique to the release
(dashboards.uidSuffix, else 8 hex digits of sha256("<namespace>/<release>")),
at most 40 characters; each title names the release, so two releases in one
Grafana never overwrite each other's boards.
*/}}
{{- define "eventwatch.dashboardUID" -}}
{{- $suffix := .root.Values.dashboards.uidSuffix | default (sha256sum (printf "%s/%s" .root.Release.Namespace .root.Release.Name) | trunc 8) }}
{{- printf "%s-%s" (.base | trunc (int (sub 39 (len $suffix)))) $suffix }}
{{- end }}

{{/* The release as dashboard titles name it: <namespace>/<release>. */}}
{{- define "eventwatch.dashboardRelease" -}}
{{- printf "%s/%s" .Release.Namespace .Release.Name }}
{{- end }}
