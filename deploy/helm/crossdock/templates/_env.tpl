{{- define "crossdock.env" -}}
- name: CROSSDOCK_SECRETS_DIR
  value: /run/secrets/crossdock
- name: CROSSDOCK_STATE_DIR
  value: /tmp/crossdock
{{- range $name, $value := .Values.env }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
{{- end -}}

{{- define "crossdock.secretVolume" -}}
- name: secrets
  secret:
    secretName: {{ .Values.existingSecret }}
    defaultMode: 0400
{{- end -}}
