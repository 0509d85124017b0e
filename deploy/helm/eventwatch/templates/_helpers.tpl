{{/* Chart name, truncated to the 63 characters of a DNS label. */}}
{{- define "eventwatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: release-chart unless the release name already holds the chart name. */}}
{{- define "eventwatch.fullname" -}}
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

{{- define "eventwatch.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "eventwatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "eventwatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "eventwatch.labels" -}}
helm.sh/chart: {{ include "eventwatch.chart" . }}
{{ include "eventwatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "eventwatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "eventwatch.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Paths inside the container. */}}
{{- define "eventwatch.dataDir" -}}/var/lib/eventwatch{{- end }}
{{- define "eventwatch.saslDir" -}}/etc/eventwatch/secrets/kafka-sasl{{- end }}
{{- define "eventwatch.tlsDir" -}}/etc/eventwatch/secrets/kafka-tls{{- end }}
{{- define "eventwatch.tokenDir" -}}/etc/eventwatch/secrets/reports{{- end }}

{{/* The store is PostgreSQL when a DSN secret is given. */}}
{{- define "eventwatch.postgres" -}}
{{- if .Values.store.postgres.existingSecret }}true{{ end }}
{{- end }}

{{/*
Checks that no schema can express: they fail rendering with a message that
says what to change.
*/}}
{{- define "eventwatch.validate" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not (include "eventwatch.postgres" .)) }}
{{- fail (printf "replicaCount is %d, but more than 1 replica needs a shared PostgreSQL store: set store.postgres.existingSecret (the SQLite store lives on one pod's volume and cannot be shared)" (int .Values.replicaCount)) }}
{{- end }}
{{- if not .Values.kafka.brokers }}
{{- fail "kafka.brokers is empty: set at least one seed broker (host:port)" }}
{{- end }}
{{- if and .Values.kafka.sasl.mechanism (not .Values.kafka.sasl.existingSecret) }}
{{- fail (printf "kafka.sasl.mechanism is %s but kafka.sasl.existingSecret is empty: name the Secret holding the SASL password" .Values.kafka.sasl.mechanism) }}
{{- end }}
{{- if and .Values.kafka.sasl.mechanism (not .Values.kafka.sasl.username) }}
{{- fail "kafka.sasl.username is empty while kafka.sasl.mechanism is set" }}
{{- end }}
{{- if ne (empty .Values.kafka.tls.certKey) (empty .Values.kafka.tls.keyKey) }}
{{- fail "kafka.tls.certKey and kafka.tls.keyKey must be set together (mutual TLS)" }}
{{- end }}
{{- if and .Values.kafka.tls.certKey (not .Values.kafka.tls.existingSecret) }}
{{- fail "kafka.tls.certKey is set but kafka.tls.existingSecret is empty" }}
{{- end }}
{{- $owned := dict
  "data_dir" "the chart mounts the data volume at /var/lib/eventwatch; remove it"
  "http.addr" "set service.port instead"
  "kafka.brokers" "set kafka.brokers instead"
  "kafka.sasl" "set kafka.sasl.* instead, with the password in a Secret"
  "kafka.tls" "set kafka.tls.* instead, with the files in a Secret"
  "store.dsn" "set store.postgres.existingSecret instead, so the DSN stays in a Secret"
  "http.token" "set reports.token.existingSecret instead, so the token stays in a Secret"
  "http.token_file" "set reports.token.existingSecret instead"
  "http.protect_metrics" "set reports.protectMetrics instead"
  "reports.token" "set reports.token.existingSecret instead, so the token stays in a Secret"
  "reports.token_file" "set reports.token.existingSecret instead"
  "reports.protect_metrics" "set reports.protectMetrics instead" }}
{{- range $key, $advice := $owned }}
{{- $found := $.Values.config }}
{{- range splitList "." $key }}{{- if kindIs "map" $found }}{{- $found = get $found . }}{{- else }}{{- $found = "" }}{{- end }}{{- end }}
{{- if $found }}
{{- fail (printf "config.%s is rendered by the chart: %s" $key $advice) }}
{{- end }}
{{- end }}
{{- if and .Values.reports.protectMetrics (not .Values.reports.token.existingSecret) }}
{{- fail "reports.protectMetrics needs reports.token.existingSecret" }}
{{- end }}
{{- end }}

{{/*
The eventwatch configuration file: what the values above say, with
.Values.config merged over it (config wins).
*/}}
{{- define "eventwatch.config" -}}
{{- $v := .Values -}}
{{- $kafka := dict "brokers" $v.kafka.brokers "client_id" $v.kafka.clientId -}}
{{- if $v.kafka.sasl.mechanism }}
{{- $_ := set $kafka "sasl" (dict "mechanism" $v.kafka.sasl.mechanism "username" $v.kafka.sasl.username "password_file" (printf "%s/%s" (include "eventwatch.saslDir" .) $v.kafka.sasl.passwordKey)) }}
{{- end }}
{{- if $v.kafka.tls.enabled }}
{{- $tls := dict "enabled" true "insecure_skip_verify" $v.kafka.tls.insecureSkipVerify }}
{{- if and $v.kafka.tls.existingSecret $v.kafka.tls.caKey }}
{{- $_ := set $tls "ca_file" (printf "%s/%s" (include "eventwatch.tlsDir" .) $v.kafka.tls.caKey) }}
{{- end }}
{{- if $v.kafka.tls.certKey }}
{{- $_ := set $tls "cert_file" (printf "%s/%s" (include "eventwatch.tlsDir" .) $v.kafka.tls.certKey) }}
{{- $_ := set $tls "key_file" (printf "%s/%s" (include "eventwatch.tlsDir" .) $v.kafka.tls.keyKey) }}
{{- end }}
{{- if $v.kafka.tls.serverName }}
{{- $_ := set $tls "server_name" $v.kafka.tls.serverName }}
{{- end }}
{{- $_ := set $kafka "tls" $tls }}
{{- end }}
{{- $http := dict "addr" (printf ":%d" (int $v.service.port)) "protect_metrics" $v.reports.protectMetrics }}
{{- if $v.reports.token.existingSecret }}
{{- $_ := set $http "token_file" (printf "%s/%s" (include "eventwatch.tokenDir" .) $v.reports.token.key) }}
{{- end }}
{{- $n := fromYaml (include "eventwatch.kafkaNames" .) }}
{{- $c := dict "data_dir" (include "eventwatch.dataDir" .) "kafka" $kafka "audit" (dict "profile" $v.audit.profile) "http" $http "log" (dict "format" "json") -}}
{{- $_ := set $c "sample" (dict "group_id" $n.samplerGroup) }}
{{- $_ := set $c "leader" (dict "group" $n.leaderGroup "topic" $n.leaderTopic) }}
{{- $_ := set $c "share" (dict "topic" $n.stateTopic) }}
{{- $_ := set $c "trace" (dict "routing" (dict "group" $n.routingGroup "topic" $n.routingTopic)) }}
{{- if include "eventwatch.postgres" . }}
{{- $_ := set $c "store" (dict "dsn" "${EVENTWATCH_STORE_DSN}") }}
{{- with include "eventwatch.storeSchema" . }}
{{- $_ := set $c.store "schema" . }}
{{- end }}
{{- end }}
{{- $merged := mustMergeOverwrite $c (deepCopy $v.config) }}
{{- toYaml $merged }}
{{- end }}

{{/*
The Kafka names of this release (kafka.names, each defaulting to one
derived from the full name F): groups F, F-leader, F-trace; topics
__F_state, __F_leader, __F_hops. A release whose full name is eventwatch
gets the daemon's defaults.
*/}}
{{- define "eventwatch.kafkaNames" -}}
{{- $f := include "eventwatch.fullname" . }}
{{- $n := .Values.kafka.names }}
samplerGroup: {{ $n.samplerGroup | default $f | quote }}
leaderGroup: {{ $n.leaderGroup | default (printf "%s-leader" $f) | quote }}
routingGroup: {{ $n.routingGroup | default (printf "%s-trace" $f) | quote }}
stateTopic: {{ $n.stateTopic | default (printf "__%s_state" $f) | quote }}
leaderTopic: {{ $n.leaderTopic | default (printf "__%s_leader" $f) | quote }}
routingTopic: {{ $n.routingTopic | default (printf "__%s_hops" $f) | quote }}
{{- end }}

{{/*
The PostgreSQL schema of this release's report store
(store.postgres.schema, default derived from the full name F: F with
'-' and '.' as '_', "ew_" before a leading digit, at most 63
characters), so that two releases on one
database keep their reports apart. A release whose full name is
eventwatch keeps the connection's default (public), as before.
*/}}
{{- define "eventwatch.storeSchema" -}}
{{- $f := include "eventwatch.fullname" . }}
{{- if .Values.store.postgres.schema }}
{{- .Values.store.postgres.schema }}
{{- else if ne $f "eventwatch" }}
{{- $s := $f | lower | replace "-" "_" | replace "." "_" }}
{{- if regexMatch "^[0-9]" $s }}{{ $s = printf "ew_%s" $s }}{{ end }}
{{- $s | trunc 63 }}
{{- end }}
{{- end }}

{{/* The workload kind: StatefulSet (default) or Deployment. */}}
{{- define "eventwatch.statefulSet" -}}
{{- if eq (.Values.workload | default "StatefulSet") "StatefulSet" }}true{{ end }}
{{- end }}

{{/* The headless Service that gives the StatefulSet's pods their DNS names. */}}
{{- define "eventwatch.headlessName" -}}
{{- printf "%s-headless" (include "eventwatch.fullname" . | trunc 54 | trimSuffix "-") }}
{{- end }}

{{/* The SQLite data volume comes from the StatefulSet's volumeClaimTemplate
(one claim per pod, data-<pod>) rather than the chart's shared claim. */}}
{{- define "eventwatch.claimTemplate" -}}
{{- if and (include "eventwatch.statefulSet" .) (not (include "eventwatch.postgres" .)) .Values.store.persistence.enabled (not .Values.store.persistence.existingClaim) }}true{{ end }}
{{- end }}

{{/*
The pod template shared by the StatefulSet and the Deployment (the value of
spec.template).
*/}}
{{- define "eventwatch.podTemplate" -}}
{{- $postgres := include "eventwatch.postgres" . }}
{{- $pvc := and (not $postgres) .Values.store.persistence.enabled }}
{{- $scheme := ternary "HTTPS" "HTTP" (not (empty (dig "http" "tls_cert_file" "" .Values.config))) -}}
metadata:
  annotations:
    checksum/config: {{ include "eventwatch.config" . | sha256sum }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  labels:
    {{- include "eventwatch.selectorLabels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "eventwatch.serviceAccountName" . }}
  automountServiceAccountToken: false
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.priorityClassName }}
  priorityClassName: {{ . }}
  {{- end }}
  securityContext:
    {{- toYaml .Values.podSecurityContext | nindent 4 }}
  terminationGracePeriodSeconds: {{ .Values.terminationGracePeriodSeconds }}
  containers:
    - name: eventwatch
      image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      args:
        - run
        - --config
        - /etc/eventwatch/config/config.yaml
      ports:
        - name: http
          containerPort: {{ .Values.service.port }}
          protocol: TCP
      {{- if or $postgres .Values.extraEnv .Values.staticMembership }}
      env:
        {{- if .Values.staticMembership }}
        # A stable identity in the sampler's consumer group: the pod
        # name survives container restarts (kill -9, OOM, liveness) and,
        # in the StatefulSet, the pod's replacement too.
        - name: EVENTWATCH_INSTANCE_ID
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        {{- end }}
        {{- if $postgres }}
        - name: EVENTWATCH_STORE_DSN
          valueFrom:
            secretKeyRef:
              name: {{ .Values.store.postgres.existingSecret }}
              key: {{ .Values.store.postgres.dsnKey }}
        {{- end }}
        {{- with .Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- end }}
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
          scheme: {{ $scheme }}
        {{- toYaml .Values.probes.liveness | nindent 8 }}
      readinessProbe:
        httpGet:
          path: /readyz
          port: http
          scheme: {{ $scheme }}
        {{- toYaml .Values.probes.readiness | nindent 8 }}
      securityContext:
        {{- toYaml .Values.securityContext | nindent 8 }}
      resources:
        {{- toYaml .Values.resources | nindent 8 }}
      volumeMounts:
        - name: config
          mountPath: /etc/eventwatch/config
          readOnly: true
        - name: data
          mountPath: {{ include "eventwatch.dataDir" . }}
        - name: tmp
          mountPath: /tmp
        {{- if .Values.kafka.sasl.mechanism }}
        - name: kafka-sasl
          mountPath: {{ include "eventwatch.saslDir" . }}
          readOnly: true
        {{- end }}
        {{- if and .Values.kafka.tls.enabled .Values.kafka.tls.existingSecret }}
        - name: kafka-tls
          mountPath: {{ include "eventwatch.tlsDir" . }}
          readOnly: true
        {{- end }}
        {{- if .Values.reports.token.existingSecret }}
        - name: reports-token
          mountPath: {{ include "eventwatch.tokenDir" . }}
          readOnly: true
        {{- end }}
        {{- with .Values.extraVolumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "eventwatch.fullname" . }}
    {{- if not (include "eventwatch.claimTemplate" .) }}
    - name: data
      {{- if $pvc }}
      persistentVolumeClaim:
        claimName: {{ .Values.store.persistence.existingClaim | default (include "eventwatch.fullname" .) }}
      {{- else }}
      emptyDir: {}
      {{- end }}
    {{- end }}
    - name: tmp
      emptyDir:
        sizeLimit: 64Mi
    {{- if .Values.kafka.sasl.mechanism }}
    - name: kafka-sasl
      secret:
        secretName: {{ .Values.kafka.sasl.existingSecret }}
        defaultMode: 0440
        items:
          - key: {{ .Values.kafka.sasl.passwordKey }}
            path: {{ .Values.kafka.sasl.passwordKey }}
    {{- end }}
    {{- if and .Values.kafka.tls.enabled .Values.kafka.tls.existingSecret }}
    - name: kafka-tls
      secret:
        secretName: {{ .Values.kafka.tls.existingSecret }}
        defaultMode: 0440
    {{- end }}
    {{- if .Values.reports.token.existingSecret }}
    - name: reports-token
      secret:
        secretName: {{ .Values.reports.token.existingSecret }}
        defaultMode: 0440
        items:
          - key: {{ .Values.reports.token.key }}
            path: {{ .Values.reports.token.key }}
    {{- end }}
    {{- with .Values.extraVolumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.topologySpreadConstraints }}
  topologySpreadConstraints:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
