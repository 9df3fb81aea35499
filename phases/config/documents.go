package config

import (
	"bytes"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// splitYAML splits a multi-document YAML stream on separator lines, as
// kubeadm's YAMLReader (k8s.io/apimachinery/pkg/util/yaml) does: a line
// that starts with "---" separates documents when the rest of it is
// blank or a comment ("---\t# etcd"), and is an error otherwise
// ("--- foo"). A separator missed here would hide the documents after it:
// YAML reads one document and ignores the rest.
func splitYAML(data []byte) ([][]byte, error) {
	var docs [][]byte
	var cur bytes.Buffer
	for n, line := range bytes.SplitAfter(data, []byte("\n")) {
		if rest, ok := bytes.CutPrefix(line, []byte("---")); ok {
			if rest = bytes.TrimSpace(rest); len(rest) > 0 && rest[0] != '#' {
				return nil, fmt.Errorf("line %d: invalid YAML document separator %q: only a comment may follow --- on its line: write --- alone on the line, and the rest on the next one", n+1, bytes.TrimSpace(line))
			}
			docs = append(docs, bytes.Clone(cur.Bytes()))
			cur.Reset()
			continue
		}
		cur.Write(line)
	}
	return append(docs, cur.Bytes()), nil
}

// rawFieldTypes are the types of the fields typed ignored (decoded later)
// whose keys are kubeadm's too, by dotted path.
var rawFieldTypes = map[string]reflect.Type{"etcd.external": reflect.TypeFor[ExternalEtcd]()}

// unknownFields lists the keys of m (recursively, as dotted paths) that
// struct type t does not declare in its json tags for apiVersion.
func unknownFields(m map[string]any, t reflect.Type, apiVersion, prefix string) []string {
	known := map[string]reflect.Type{}
	collectFields(t, apiVersion, known)
	var out []string
	for k, v := range m {
		ft, ok := known[k]
		if !ok {
			out = append(out, prefix+k)
			continue
		}
		if rt, isRaw := rawFieldTypes[prefix+k]; isRaw {
			ft = rt
		}
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if sub, isMap := v.(map[string]any); isMap && ft.Kind() == reflect.Struct {
			out = append(out, unknownFields(sub, ft, apiVersion, prefix+k+".")...)
		}
	}
	sort.Strings(out)
	return out
}

// removeFields removes from m the fields of paths, dotted as unknownFields
// spells them.
func removeFields(m map[string]any, paths []string) {
	for _, p := range paths {
		cur := m
		keys := strings.Split(p, ".")
		for _, k := range keys[:len(keys)-1] {
			sub, ok := cur[k].(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur = sub
		}
		if cur != nil {
			delete(cur, keys[len(keys)-1])
		}
	}
}

// collectFields adds to into the JSON names of struct type t's fields that
// apiVersion has (see the only tag), with their types.
func collectFields(t reflect.Type, apiVersion string, into map[string]reflect.Type) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if only := f.Tag.Get("only"); only != "" && !strings.HasSuffix(apiVersion, "/"+only) {
			continue
		}
		if f.Anonymous {
			collectFields(f.Type, apiVersion, into)
			continue
		}
		name := strings.Split(f.Tag.Get("json"), ",")[0]
		if name != "" && name != "-" {
			into[name] = f.Type
		}
	}
}
