{{- define "labelvault.name" -}}{{ .Release.Name }}-labelvault{{- end -}}

{{- define "labelvault.labels" -}}
app.kubernetes.io/name: labelvault
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Environment shared by app nodes, workers and the migration Job. */}}
{{- define "labelvault.env" -}}
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
- name: SECRET_KEY
  valueFrom: { secretKeyRef: { name: {{ .Values.secrets.secretKey.secretName }}, key: {{ .Values.secrets.secretKey.key }} } }
{{- if .Values.secrets.storage.secretName }}
- name: AWS_ACCESS_KEY_ID
  valueFrom: { secretKeyRef: { name: {{ .Values.secrets.storage.secretName }}, key: {{ .Values.secrets.storage.accessKeyIdKey }} } }
- name: AWS_SECRET_ACCESS_KEY
  valueFrom: { secretKeyRef: { name: {{ .Values.secrets.storage.secretName }}, key: {{ .Values.secrets.storage.secretAccessKeyKey }} } }
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
{{- if .Values.secrets.storage.secretName }}
- name: FILE_STORAGE_S3_ACCESS_KEY_ID
  valueFrom: { secretKeyRef: { name: {{ .Values.secrets.storage.secretName }}, key: {{ .Values.secrets.storage.accessKeyIdKey }} } }
- name: FILE_STORAGE_S3_SECRET_ACCESS_KEY
  valueFrom: { secretKeyRef: { name: {{ .Values.secrets.storage.secretName }}, key: {{ .Values.secrets.storage.secretAccessKeyKey }} } }
{{- end }}
{{- else if ne .Values.fileStorage.type "local" }}
{{- fail "fileStorage.type must be local or s3" }}
{{- end }}
{{- if .Values.metrics.enabled }}
- name: METRICS_ENABLED
  value: "true"
- name: METRICS_TOKEN
  valueFrom: { secretKeyRef: { name: {{ .Values.secrets.metricsToken.secretName }}, key: {{ .Values.secrets.metricsToken.key }} } }
{{- end }}
{{- with .Values.global.customCaCerts }}
- name: CUSTOM_CA_CERTS
  value: {{ range $i, $c := . }}{{ if $i }},{{ end }}/opt/certs/{{ $c.name }}.pem{{ end }}
{{- end }}
{{- range $k, $v := .Values.global.extraEnvironmentVars }}
- name: {{ $k }}
  value: {{ $v | quote }}
{{- end }}
{{- end -}}

{{/* Volumes: data, /tmp (read-only root), custom CAs, then the role's extraVolumes. */}}
{{- define "labelvault.volumes" -}}
- name: data
  persistentVolumeClaim: { claimName: {{ .root.Values.dataVolume.existingClaim }} }
- name: tmp
  emptyDir: {}
{{- range .root.Values.global.customCaCerts }}
- name: ca-{{ .name }}
  {{- if .secretName }}
  secret: { secretName: {{ .secretName }}, items: [{ key: {{ .secretKey }}, path: {{ .name }}.pem }] }
  {{- else }}
  configMap: { name: {{ .configMapName }}, items: [{ key: {{ .configMapKey }}, path: {{ .name }}.pem }] }
  {{- end }}
{{- end }}
{{- with .role.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "labelvault.volumeMounts" -}}
- name: data
  mountPath: /data
- name: tmp
  mountPath: /tmp
{{- range .root.Values.global.customCaCerts }}
- name: ca-{{ .name }}
  mountPath: /opt/certs/{{ .name }}.pem
  subPath: {{ .name }}.pem
  readOnly: true
{{- end }}
{{- with .role.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end -}}
