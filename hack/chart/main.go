// ferry-chart-render: renders a Helm chart's templates as `helm template` does, for Ferry's
// tests (Helm itself is not packaged in Debian). It is built from Debian's Go, sprig (Helm's
// template functions) and sigs.k8s.io/yaml (what Helm's toYaml uses), and reimplements the
// part of Helm that Ferry's chart relies on:
//
//   - values: the chart's values.yaml, then each -f FILE, then each --set path=value
//     (deep-merged maps, as Helm coalesces them; --set parses true/false/null/integers);
//   - objects: .Values .Release (Name Namespace Service IsInstall IsUpgrade Revision)
//     .Chart (Chart.yaml with Helm's capitalised keys) .Template (Name BasePath)
//     .Files (Get GetBytes Glob) .Capabilities (KubeVersion, APIVersions.Has);
//   - functions: sprig's text functions without env/expandenv (as Helm), and Helm's
//     toYaml fromYaml toJson fromJson include tpl required lookup (always empty, as
//     `helm template`);
//   - templates/: every file parsed into one set (so _helpers.tpl defines are shared), files
//     whose name starts with "_" not rendered, missing keys render as "" (Helm's default),
//     empty documents dropped, each document preceded by "# Source: CHART/templates/FILE";
//   - crds/: printed first with --include-crds, unrendered (Helm never templates them).
//
// Usage: ferry-chart-render [--include-crds] [--name NAME] [--namespace NS]
//
//	[-f values.yaml]... [--set a.b=c]... [--kube-version v1.20.2] CHART_DIR
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"sigs.k8s.io/yaml"
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// Files gives templates the chart's non-template files, as Helm's .Files.
type Files map[string][]byte

func (f Files) Get(name string) string      { return string(f[name]) }
func (f Files) GetBytes(name string) []byte { return f[name] }
func (f Files) Glob(pattern string) Files {
	out := Files{}
	for name, data := range f {
		if ok, _ := path.Match(pattern, name); ok {
			out[name] = data
		}
	}
	return out
}

// VersionSet answers .Capabilities.APIVersions.Has.
type VersionSet []string

func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

// The API versions of Kubernetes v1.20 that Ferry's chart may ask about, plus the
// Prometheus Operator's (Helm reports the CRDs a cluster serves; a test passes them).
var defaultAPIVersions = VersionSet{
	"v1", "apps/v1", "rbac.authorization.k8s.io/v1", "coordination.k8s.io/v1",
	"apiextensions.k8s.io/v1", "policy/v1beta1", "scheduling.k8s.io/v1",
}

func main() {
	var valueFiles, sets, apiVersions stringList
	name := flag.String("name", "ferry", "release name")
	namespace := flag.String("namespace", "ferry-system", "release namespace")
	kubeVersion := flag.String("kube-version", "v1.20.2", "Kubernetes version for .Capabilities")
	includeCRDs := flag.Bool("include-crds", false, "print the chart's crds/ first")
	flag.Var(&valueFiles, "f", "values file (repeatable; later wins)")
	flag.Var(&sets, "set", "path=value (repeatable; after the files)")
	flag.Var(&apiVersions, "api-versions", "extra API versions for .Capabilities.APIVersions (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: ferry-chart-render [flags] CHART_DIR")
		flag.PrintDefaults()
		os.Exit(2)
	}
	out, err := render(flag.Arg(0), *name, *namespace, *kubeVersion, *includeCRDs, valueFiles, sets,
		append(append(VersionSet{}, defaultAPIVersions...), apiVersions...))
	if err != nil {
		fmt.Fprintln(os.Stderr, "ferry-chart-render:", err)
		os.Exit(1)
	}
	os.Stdout.WriteString(out)
}

func readYAMLMap(file string) (map[string]interface{}, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return m, nil
}

// merge deep-merges src into dst (src wins; maps merge; null deletes, as Helm's coalescing).
func merge(dst, src map[string]interface{}) {
	for k, v := range src {
		if v == nil {
			delete(dst, k)
			continue
		}
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
}

func parseSetValue(s string) interface{} {
	switch s {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	return s
}

func applySet(values map[string]interface{}, expr string) error {
	eq := strings.Index(expr, "=")
	if eq <= 0 {
		return fmt.Errorf("--set %q: want path=value", expr)
	}
	keys := strings.Split(expr[:eq], ".")
	m := values
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			m[k] = next
		}
		m = next
	}
	v := parseSetValue(expr[eq+1:])
	if v == nil {
		delete(m, keys[len(keys)-1])
	} else {
		m[keys[len(keys)-1]] = v
	}
	return nil
}

// chartMeta turns Chart.yaml's keys into Helm's .Chart fields (name -> Name, appVersion ->
// AppVersion).
func chartMeta(raw map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range raw {
		if k == "" {
			continue
		}
		out[strings.ToUpper(k[:1])+k[1:]] = v
	}
	return out
}

func toYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func render(chartDir, name, namespace, kubeVersion string, includeCRDs bool,
	valueFiles, sets []string, apiVersions VersionSet) (string, error) {
	chartYAML, err := readYAMLMap(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		return "", err
	}
	chart := chartMeta(chartYAML)
	chartName, _ := chart["Name"].(string)
	if chartName == "" {
		return "", errors.New("Chart.yaml has no name")
	}
	values, err := readYAMLMap(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		return "", err
	}
	for _, f := range valueFiles {
		m, err := readYAMLMap(f)
		if err != nil {
			return "", err
		}
		merge(values, m)
	}
	for _, s := range sets {
		if err := applySet(values, s); err != nil {
			return "", err
		}
	}

	// Every file of the chart, by its path inside the chart.
	files := Files{}
	var templates, crds []string
	err = filepath.Walk(chartDir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(chartDir, p)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(p) // follows symbolic links, as Helm's loader
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(rel, "templates/"):
			templates = append(templates, rel)
		case strings.HasPrefix(rel, "crds/"):
			crds = append(crds, rel)
		}
		files[rel] = data
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(templates)
	sort.Strings(crds)

	root := template.New("chart")
	funcs := sprig.TxtFuncMap()
	delete(funcs, "env")
	delete(funcs, "expandenv")
	funcs["toYaml"] = toYAML
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := yaml.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["toJson"] = func(v interface{}) string {
		data, err := json.Marshal(v)
		if err != nil {
			return ""
		}
		return string(data)
	}
	funcs["fromJson"] = func(s string) map[string]interface{} {
		m := map[string]interface{}{}
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			m["Error"] = err.Error()
		}
		return m
	}
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil {
			return nil, errors.New(msg)
		}
		if s, ok := v.(string); ok && s == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	funcs["lookup"] = func(string, string, string, string) (map[string]interface{}, error) {
		return map[string]interface{}{}, nil
	}
	funcs["include"] = func(tname string, data interface{}) (string, error) {
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, tname, data); err != nil {
			return "", err
		}
		return buf.String(), nil
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, data); err != nil {
			return "", err
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
	root.Funcs(funcs).Option("missingkey=zero")
	for _, rel := range templates {
		if _, err := root.New(path.Join(chartName, rel)).Parse(string(files[rel])); err != nil {
			return "", err
		}
	}

	kv := strings.TrimPrefix(kubeVersion, "v")
	parts := strings.SplitN(kv, ".", 3)
	if len(parts) < 2 {
		return "", fmt.Errorf("--kube-version %q: want vMAJOR.MINOR.PATCH", kubeVersion)
	}
	top := map[string]interface{}{
		"Values": values,
		"Chart":  chart,
		"Files":  files,
		"Release": map[string]interface{}{
			"Name": name, "Namespace": namespace, "Service": "Helm",
			"IsInstall": true, "IsUpgrade": false, "Revision": 1,
		},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{
				"Version": "v" + kv, "GitVersion": "v" + kv, "Major": parts[0], "Minor": parts[1],
			},
			"APIVersions": apiVersions,
		},
	}

	var out strings.Builder
	if includeCRDs {
		for _, rel := range crds {
			if !strings.HasSuffix(rel, ".yaml") && !strings.HasSuffix(rel, ".yml") {
				continue
			}
			fmt.Fprintf(&out, "---\n# Source: %s/%s\n%s", chartName, rel, strings.TrimLeft(string(files[rel]), "-\n"))
			if !strings.HasSuffix(out.String(), "\n") {
				out.WriteString("\n")
			}
		}
	}
	for _, rel := range templates {
		if strings.HasPrefix(path.Base(rel), "_") || strings.HasSuffix(rel, "NOTES.txt") {
			continue
		}
		tname := path.Join(chartName, rel)
		scope := map[string]interface{}{}
		for k, v := range top {
			scope[k] = v
		}
		scope["Template"] = map[string]interface{}{"Name": tname, "BasePath": path.Join(chartName, "templates")}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, tname, scope); err != nil {
			return "", err
		}
		text := strings.ReplaceAll(buf.String(), "<no value>", "")
		for _, doc := range splitDocuments(text) {
			fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", tname, doc)
		}
	}
	return out.String(), nil
}

// splitDocuments splits a rendered file at "---" lines and drops documents with nothing but
// comments and blank lines (Helm drops empty manifests).
func splitDocuments(text string) []string {
	var docs []string
	var cur []string
	flush := func() {
		doc := strings.TrimSpace(strings.Join(cur, "\n"))
		cur = nil
		empty := true
		for _, line := range strings.Split(doc, "\n") {
			l := strings.TrimSpace(line)
			if l != "" && !strings.HasPrefix(l, "#") {
				empty = false
				break
			}
		}
		if !empty {
			docs = append(docs, doc)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimRight(line, " \t") == "---" || strings.HasPrefix(line, "--- ") {
			flush()
			continue
		}
		cur = append(cur, line)
	}
	flush()
	return docs
}
