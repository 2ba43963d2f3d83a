{{- define "labelvault.name" -}}{{ .Release.Name }}-labelvault{{- end -}}

{{- define "labelvault.labels" -}}
app.kubernetes.io/name: labelvault
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Kubernetes' kill timeout: SIGTERM gives in-flight requests, then running jobs, the grace
  each (SHUTDOWN_GRACE_SECONDS), so the config asks for more than twice it; 10 s to spare. */}}
{{- define "labelvault.terminationGracePeriodSeconds" -}}
{{ add (mul 2 (int .Values.shutdown.graceSeconds)) 10 }}
{{- end -}}

{{/* NetworkPolicy peer admitting Prometheus (networkPolicy.metricsScraper), given the root. */}}
{{- define "labelvault.metricsPeer" -}}
{{- $m := .Values.networkPolicy.metricsScraper }}
{{- if not $m.namespaceSelector }}
{{- fail "networkPolicy.metricsScraper.namespaceSelector is required (labels of Prometheus' namespace) when metricsScraper is enabled" }}
{{- end -}}
- from:
    - namespaceSelector:
        matchLabels:
          {{- toYaml $m.namespaceSelector | nindent 10 }}
      {{- with $m.podSelector }}
      podSelector:
        matchLabels:
          {{- toYaml . | nindent 10 }}
      {{- end }}
  ports:
    - { port: {{ .Values.service.port }}, protocol: TCP }
{{- end -}}

{{/* Environment shared by app nodes, workers and the migration Job. */}}
{{- define "labelvault.env" -}}
{{- /* Renamed: ignored, the old values would leave the file store on the pod's own identity. */}}
{{- if .Values.secrets.storage }}
{{- fail "secrets.storage was renamed secrets.fileStorage: move its secretName there (the default key names are now FILE_STORAGE_S3_ACCESS_KEY_ID and FILE_STORAGE_S3_SECRET_ACCESS_KEY: set accessKeyIdKey and secretAccessKeyKey to keep AWS_*), then remove secrets.storage. Left as it is, it would be ignored and the file store would use the pod's own identity" }}
{{- end }}
- name: NODE_ENV
  value: production
- name: HOST
  value: 0.0.0.0
- name: PORT
  value: {{ .Values.service.port | quote }}
- name: LABELVAULT_DATA_DIR
  value: /data
- name: TRUST_PROXY
  value: "1"
- name: DATABASE_URL
  valueFrom: { secretKeyRef: { name: {{ .Values.secrets.database.secretName }}, key: {{ .Values.secrets.database.urlKey }} } }
- name: REDIS_URL
  valueFrom: { secretKeyRef: { name: {{ .Values.secrets.redis.secretName }}, key: {{ .Values.secrets.redis.urlKey }} } }
{{- /* Always from the Secret: without SECRET_KEY each pod would make its own key file in the
  data folder (an emptyDir with fileStorage s3), and tokens and sessions signed on one pod would
  fail on the others. */}}
- name: SECRET_KEY
  valueFrom: { secretKeyRef: { name: {{ required "secrets.secretKey.secretName is required: every pod must share one SECRET_KEY" .Values.secrets.secretKey.secretName }}, key: {{ required "secrets.secretKey.key is required" .Values.secrets.secretKey.key }} } }
- name: SHUTDOWN_GRACE_SECONDS
  value: {{ .Values.shutdown.graceSeconds | quote }}
{{- /* No AWS_* credentials here: they would become the default identity of every S3 client in
  the pod, project storages included. The file store gets its key pair as FILE_STORAGE_S3_*. */}}
{{- if .Values.storages.serverCredentials }}
{{- if and (eq .Values.fileStorage.type "s3") (not .Values.secrets.fileStorage.secretName) }}
{{- fail "storages.serverCredentials needs secrets.fileStorage with fileStorage.type s3: the pod's identity would be the file store's" }}
{{- end }}
- name: STORAGE_SERVER_CREDENTIALS_ENABLED
  value: "true"
{{- end }}
{{- if eq .Values.fileStorage.type "s3" }}
{{- $s3 := .Values.fileStorage.s3 }}
- name: FILE_STORAGE
  value: s3
- name: FILE_STORAGE_S3_BUCKET
  value: {{ required "fileStorage.s3.bucket is required when fileStorage.type is s3" $s3.bucket | quote }}
- name: FILE_STORAGE_S3_REGION
  value: {{ $s3.region | quote }}
{{- with $s3.endpoint }}
- name: FILE_STORAGE_S3_ENDPOINT
  value: {{ . | quote }}
{{- end }}
{{- with $s3.prefix }}
- name: FILE_STORAGE_S3_PREFIX
  value: {{ . | quote }}
{{- end }}
{{- if not (kindIs "invalid" $s3.forcePathStyle) }}
- name: FILE_STORAGE_S3_FORCE_PATH_STYLE
  value: {{ $s3.forcePathStyle | quote }}
{{- end }}
{{- with .Values.secrets.fileStorage }}{{ if .secretName }}
- name: FILE_STORAGE_S3_ACCESS_KEY_ID
  valueFrom: { secretKeyRef: { name: {{ .secretName }}, key: {{ .accessKeyIdKey }} } }
- name: FILE_STORAGE_S3_SECRET_ACCESS_KEY
  valueFrom: { secretKeyRef: { name: {{ .secretName }}, key: {{ .secretAccessKeyKey }} } }
{{- end }}{{ end }}
{{- else if ne .Values.fileStorage.type "local" }}
{{- fail "fileStorage.type must be local or s3" }}
{{- end }}
{{- if .Values.metrics.enabled }}
- name: METRICS_ENABLED
  value: "true"
- name: METRICS_TOKEN
  valueFrom: { secretKeyRef: { name: {{ required "secrets.metricsToken.secretName is required when metrics.enabled is true" .Values.secrets.metricsToken.secretName }}, key: {{ .Values.secrets.metricsToken.key }} } }
{{- end }}
{{- with .Values.global.customCaCerts }}
- name: CUSTOM_CA_CERTS
  value: {{ include "labelvault.customCaCertPaths" . | quote }}
{{- end }}
{{- range $k, $v := .Values.global.extraEnvironmentVars }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- end -}}

{{/* CUSTOM_CA_CERTS from global.customCaCerts, given the list. A string entry is a file path
  (Label Studio's shape: the user mounts it through the roles' extraVolumes / extraVolumeMounts),
  taken as is; an object entry is a Secret or ConfigMap key the chart mounts at
  /opt/certs/<name>.pem. */}}
{{- define "labelvault.customCaCertPaths" -}}
{{- range $i, $c := . }}{{ if $i }},{{ end }}
{{- if kindIs "string" $c }}{{ $c }}
{{- else }}/opt/certs/{{ required "global.customCaCerts: an object entry needs name (or give a file path as a string)" $c.name }}.pem
{{- end }}
{{- end }}
{{- end -}}

{{/* The data folder's volume, given the root. fileStorage local: uploads and export snapshots
  live there, so it must be the shared claim (ReadWriteMany) and outlive pods; refused without
  one. s3: files live in the bucket and the folder holds only the import spool, so without a
  claim each pod gets a node-local emptyDir (SECRET_KEY always comes from its Secret, never from
  a key file in this folder, which would differ per pod). */}}
{{- define "labelvault.dataVolume" -}}
{{- $claim := .Values.dataVolume.existingClaim }}
{{- if $claim -}}
persistentVolumeClaim: { claimName: {{ $claim }} }
{{- else if eq .Values.fileStorage.type "s3" -}}
emptyDir: {}
{{- else if or (gt (int .Values.app.replicas) 1) (gt (int .Values.worker.replicas) 0) }}
{{- fail "dataVolume.existingClaim is required when fileStorage.type is local with app.replicas > 1 or a worker: uploads and export snapshots live in the data folder, which every app and worker pod must share (a ReadWriteMany claim); or use fileStorage.type s3" }}
{{- else }}
{{- fail "dataVolume.existingClaim is required when fileStorage.type is local: uploads and export snapshots live in the data folder, which must outlive the pod; or use fileStorage.type s3" }}
{{- end }}
{{- end -}}

{{/* Volumes: data, /tmp (read-only root), the object entries of global.customCaCerts (string
  entries are paths the user mounts), then the role's extraVolumes and those of its alias (the
  worker's: rqworker, Label Studio's name for it; setting both is refused, since a list copied
  under both names would give each volume twice). Given root, role and alias (may be nil). */}}
{{- define "labelvault.volumes" -}}
- name: data
  {{ include "labelvault.dataVolume" .root }}
- name: tmp
  emptyDir: {}
{{- range .root.Values.global.customCaCerts }}{{ if not (kindIs "string" .) }}
- name: ca-{{ .name }}
  {{- if .secretName }}
  secret: { secretName: {{ .secretName }}, items: [{ key: {{ required "global.customCaCerts: secretKey is required with secretName" .secretKey }}, path: {{ .name }}.pem }] }
  {{- else }}
  configMap: { name: {{ required "global.customCaCerts: an object entry needs secretName or configMapName" .configMapName }}, items: [{ key: {{ required "global.customCaCerts: configMapKey is required with configMapName" .configMapKey }}, path: {{ .name }}.pem }] }
  {{- end }}
{{- end }}{{ end }}
{{- with .role.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- with .alias }}
{{- with omit . "extraVolumes" "extraVolumeMounts" }}
{{- fail "rqworker takes only extraVolumes and extraVolumeMounts (Label Studio's name); set the worker's other values under worker" }}
{{- end }}
{{- if and (or .extraVolumes .extraVolumeMounts) (or $.role.extraVolumes $.role.extraVolumeMounts) }}
{{- fail "rqworker.extraVolumes / extraVolumeMounts are Label Studio's names for worker.extraVolumes / extraVolumeMounts: set them under one name only" }}
{{- end }}
{{- with .extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "labelvault.volumeMounts" -}}
- name: data
  mountPath: /data
- name: tmp
  mountPath: /tmp
{{- range .root.Values.global.customCaCerts }}{{ if not (kindIs "string" .) }}
- name: ca-{{ .name }}
  mountPath: /opt/certs/{{ .name }}.pem
  subPath: {{ .name }}.pem
  readOnly: true
{{- end }}{{ end }}
{{- with .role.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- with .alias }}{{ with .extraVolumeMounts }}
{{ toYaml . }}
{{- end }}{{ end }}
{{- end -}}
