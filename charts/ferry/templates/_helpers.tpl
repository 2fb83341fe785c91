{{/* Base name of every object: the release name when it contains the chart's name
("ferry" -> ferry-operator, ferry-handler), else <release>-ferry. */}}
{{- define "ferry.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ferry.operatorName" -}}{{ include "ferry.fullname" . }}-operator{{- end -}}
{{- define "ferry.handlerName" -}}{{ include "ferry.fullname" . }}-handler{{- end -}}

{{/* Labels of every object; "component" is operator or handler (or empty). */}}
{{- define "ferry.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: ferry
{{- end -}}

{{- define "ferry.operatorSelector" -}}
app.kubernetes.io/name: ferry-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
{{- define "ferry.handlerSelector" -}}
app.kubernetes.io/name: ferry-handler
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ferry.image" -}}
{{- $root := index . 0 -}}{{- $img := index . 1 -}}
{{- printf "%s%s:%s" $root.Values.imageRegistry $img.repository (default $root.Chart.AppVersion $img.tag) -}}
{{- end -}}

{{/* Flags from a name: value map (sorted by name), then extra args, then logging. */}}
{{- define "ferry.flags" -}}
{{- $root := index . 0 -}}{{- $c := index . 1 -}}
{{- range $name, $value := $c.flags }}
- {{ printf "--%s=%v" $name $value | quote }}
{{- end }}
{{- range $c.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- with $root.Values.logging.format }}
- {{ printf "--log-format=%s" . | quote }}
{{- end }}
{{- if not (kindIs "invalid" $root.Values.logging.verbosity) }}
- {{ printf "--v=%v" $root.Values.logging.verbosity | quote }}
{{- end }}
{{- end -}}
