{{/*
The app.kubernetes.io/name label and name part: kube-state-metrics unless nameOverride, so
selectors and job labels written for kube-state-metrics keep matching.
*/}}
{{- define "ksm-py.name" -}}
{{- default "kube-state-metrics" .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* <release>-<name>, or the release name alone when it already contains the name. */}}
{{- define "ksm-py.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "ksm-py.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "ksm-py.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride -}}
{{- end -}}

{{- define "ksm-py.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "ksm-py.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "ksm-py.selectorLabels" -}}
{{- if .Values.selectorOverride -}}
{{- toYaml .Values.selectorOverride }}
{{- else -}}
app.kubernetes.io/name: {{ include "ksm-py.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- end -}}

{{- define "ksm-py.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/component: metrics
app.kubernetes.io/part-of: {{ include "ksm-py.name" . }}
{{ include "ksm-py.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- with .Values.customLabels }}
{{ tpl (toYaml .) $ }}
{{- end }}
{{- if .Values.releaseLabel }}
release: {{ .Release.Name }}
{{- end }}
{{- end -}}

{{- define "ksm-py.image" -}}
{{- $registry := default .Values.image.registry .Values.global.imageRegistry -}}
{{- $ref := printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- if $registry }}{{ $ref = printf "%s/%s" $registry $ref }}{{ end -}}
{{- if .Values.image.sha }}{{ $ref = printf "%s@%s" $ref .Values.image.sha }}{{ end -}}
{{- $ref -}}
{{- end -}}

{{/* imagePullSecrets entries from global.imagePullSecrets and the list passed as .secrets. */}}
{{- define "ksm-py.imagePullSecrets" -}}
{{- range (concat .root.Values.global.imagePullSecrets .secrets) }}
{{- if kindIs "map" . }}
- {{ toYaml . | trim }}
{{- else }}
- name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The --resources list: collectors, without collectorsExclude, plus collectorsExtra (a YAML list). */}}
{{- define "ksm-py.collectors" -}}
{{- $out := list -}}
{{- range .Values.collectors -}}
{{- if not (has . $.Values.collectorsExclude) -}}{{- $out = append $out . -}}{{- end -}}
{{- end -}}
{{- range .Values.collectorsExtra -}}
{{- if not (has . $out) -}}{{- $out = append $out . -}}{{- end -}}
{{- end -}}
{{- toYaml $out -}}
{{- end -}}

{{/* The API group of every --resources key that lists a Kubernetes resource of the same name. */}}
{{- define "ksm-py.apiGroups" -}}
certificatesigningrequests: certificates.k8s.io
clusterrolebindings: rbac.authorization.k8s.io
clusterroles: rbac.authorization.k8s.io
configmaps: ""
cronjobs: batch
daemonsets: apps
deployments: apps
endpoints: ""
endpointslices: discovery.k8s.io
events: events.k8s.io
horizontalpodautoscalers: autoscaling
ingressclasses: networking.k8s.io
ingresses: networking.k8s.io
jobs: batch
leases: coordination.k8s.io
limitranges: ""
mutatingadmissionpolicies: admissionregistration.k8s.io
mutatingadmissionpolicybindings: admissionregistration.k8s.io
mutatingwebhookconfigurations: admissionregistration.k8s.io
namespaces: ""
networkpolicies: networking.k8s.io
nodes: ""
persistentvolumeclaims: ""
persistentvolumes: ""
poddisruptionbudgets: policy
pods: ""
replicasets: apps
replicationcontrollers: ""
resourcequotas: ""
rolebindings: rbac.authorization.k8s.io
roles: rbac.authorization.k8s.io
secrets: ""
serviceaccounts: ""
services: ""
statefulsets: apps
storageclasses: storage.k8s.io
validatingadmissionpolicies: admissionregistration.k8s.io
validatingadmissionpolicybindings: admissionregistration.k8s.io
validatingwebhookconfigurations: admissionregistration.k8s.io
volumeattachments: storage.k8s.io
{{- end -}}

{{/*
The kinds the topology resource models (ksm_py/topology/kinds.py): it lists and watches them
whether or not their own collector is on (Secrets as metadata only).
*/}}
{{- define "ksm-py.topologyKinds" -}}
- configmaps
- cronjobs
- daemonsets
- deployments
- endpointslices
- ingresses
- jobs
- namespaces
- nodes
- persistentvolumeclaims
- persistentvolumes
- pods
- replicasets
- replicationcontrollers
- secrets
- services
- statefulsets
- volumeattachments
{{- end -}}

{{/*
The RBAC rules the --resources list needs: list and watch, one rule per API group, nothing else.
*/}}
{{- define "ksm-py.collectorRules" -}}
{{- $groups := include "ksm-py.apiGroups" . | fromYaml -}}
{{- $needed := list -}}
{{- range (include "ksm-py.collectors" . | fromYamlArray) -}}
{{- if eq . "topology" -}}
{{- $needed = concat $needed (include "ksm-py.topologyKinds" $ | fromYamlArray) -}}
{{- else if hasKey $groups . -}}
{{- $needed = append $needed . -}}
{{- else -}}
{{- fail (printf "collectors: unknown resource %q (see the comment above collectors in values.yaml)" .) -}}
{{- end -}}
{{- end -}}
{{- $byGroup := dict -}}
{{- range ($needed | uniq | sortAlpha) -}}
{{- $group := get $groups . -}}
{{- $_ := set $byGroup $group (append (get $byGroup $group | default list) .) -}}
{{- end -}}
{{- range $group := (keys $byGroup | sortAlpha) }}
- apiGroups: [{{ $group | quote }}]
  resources: {{ get $byGroup $group | toJson }}
  verbs: ["list", "watch"]
{{- end }}
{{- end -}}

{{/* The listeners' ports. */}}
{{- define "ksm-py.port" -}}{{ .Values.service.port | default 8080 }}{{- end -}}
{{- define "ksm-py.telemetryPort" -}}{{ .Values.selfMonitor.telemetryPort | default 8081 }}{{- end -}}

{{/* Keys of the kube-state-metrics chart this chart does not implement fail instead of being ignored. */}}
{{- define "ksm-py.unsupported" -}}
{{- if .Values.kubeRBACProxy.enabled -}}
{{- fail "kubeRBACProxy: not shipped by the ksm-py chart; serve TLS and authentication with --tls-config (extraArgs and a volume)" -}}
{{- end -}}
{{- if and .Values.authFilter.enabled (not .Values.rbac.useClusterRole) -}}
{{- fail "authFilter needs rbac.useClusterRole: TokenReviews and SubjectAccessReviews are cluster-scoped" -}}
{{- end -}}
{{- if .Values.networkPolicy.enabled -}}
{{- fail "networkPolicy: not implemented by the ksm-py chart; add a NetworkPolicy with extraManifests" -}}
{{- end -}}
{{- if .Values.verticalPodAutoscaler.enabled -}}
{{- fail "verticalPodAutoscaler: not implemented by the ksm-py chart; add one with extraManifests" -}}
{{- end -}}
{{- if (.Values.prometheus.scrapeconfig | default dict).enabled -}}
{{- fail "prometheus.scrapeconfig: not implemented by the ksm-py chart; use prometheus.monitor" -}}
{{- end -}}
{{- if and .Values.metricAllowlist .Values.metricDenylist -}}
{{- fail "metricAllowlist and metricDenylist are mutually exclusive" -}}
{{- end -}}
{{- if and (not .Values.rbac.useClusterRole) (not .Values.namespaces) -}}
{{- fail "rbac.useClusterRole=false needs namespaces: the Roles are created in each of them" -}}
{{- end -}}
{{- end -}}

{{/* namespaces as a list: a comma-separated string or a list, plus the release namespace with releaseNamespace. */}}
{{- define "ksm-py.namespaces" -}}
{{- $out := list -}}
{{- if .Values.namespaces -}}
{{- $raw := .Values.namespaces -}}
{{- if kindIs "slice" $raw }}{{ $raw = join "," $raw }}{{ end -}}
{{- range (splitList "," $raw) -}}
{{- if trim . }}{{ $out = append $out (tpl (trim .) $) }}{{ end -}}
{{- end -}}
{{- end -}}
{{- if .Values.releaseNamespace -}}
{{- $out = append $out (include "ksm-py.namespace" .) -}}
{{- end -}}
{{- toYaml ($out | uniq) -}}
{{- end -}}

{{/* One ServiceMonitor endpoint: .ep is the endpoint's values, .monitor the monitor's (older spelling). */}}
{{- define "ksm-py.monitorEndpoint" -}}
{{- $ep := .ep -}}
{{- $m := .monitor -}}
- port: {{ .port }}
{{- with ($ep.interval | default $m.interval) }}
  interval: {{ . }}
{{- end }}
{{- with ($ep.scrapeTimeout | default $m.scrapeTimeout) }}
  scrapeTimeout: {{ . }}
{{- end }}
{{- with ($ep.proxyUrl | default $m.proxyUrl) }}
  proxyUrl: {{ . }}
{{- end }}
{{- if or $ep.enableHttp2 $m.enableHttp2 }}
  enableHttp2: true
{{- end }}
{{- if or $ep.honorLabels $m.honorLabels }}
  honorLabels: true
{{- end }}
{{- with ($ep.metricRelabelings | default $m.metricRelabelings) }}
  metricRelabelings: {{- toYaml . | nindent 4 }}
{{- end }}
{{- with ($ep.relabelings | default $m.relabelings) }}
  relabelings: {{- toYaml . | nindent 4 }}
{{- end }}
{{- with ($ep.scheme | default $m.scheme) }}
  scheme: {{ . }}
{{- end }}
{{- with ($ep.tlsConfig | default $m.tlsConfig) }}
  tlsConfig: {{- toYaml . | nindent 4 }}
{{- end }}
{{- with ($ep.bearerTokenFile | default $m.bearerTokenFile) }}
  bearerTokenFile: {{ . }}
{{- end }}
{{- with ($ep.bearerTokenSecret | default $m.bearerTokenSecret) }}
  bearerTokenSecret: {{- toYaml . | nindent 4 }}
{{- end }}
{{- end -}}

{{/* An httpGet probe from a probe's values (.probe), on .path and .port. */}}
{{- define "ksm-py.probe" -}}
{{- $p := .probe -}}
failureThreshold: {{ $p.failureThreshold }}
httpGet:
  {{- if .root.Values.hostNetwork }}
  host: 127.0.0.1
  {{- end }}
  {{- with $p.httpGet.httpHeaders }}
  httpHeaders:
  {{- range . }}
  - name: {{ .name }}
    value: {{ .value | quote }}
  {{- end }}
  {{- end }}
  path: {{ .path }}
  port: {{ .port }}
  scheme: {{ upper ($p.httpGet.scheme | default "http") }}
initialDelaySeconds: {{ $p.initialDelaySeconds }}
periodSeconds: {{ $p.periodSeconds }}
successThreshold: {{ $p.successThreshold }}
timeoutSeconds: {{ $p.timeoutSeconds }}
{{- end -}}
