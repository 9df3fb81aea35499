package config

import (
	"bytes"
	"reflect"
	"sort"
	"strings"
)

// splitYAML splits a multi-document YAML stream on "---" lines.
func splitYAML(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		trimmed := bytes.TrimRight(line, " \t\r\n")
		if bytes.Equal(trimmed, []byte("---")) || bytes.HasPrefix(trimmed, []byte("--- ")) {
			docs = append(docs, bytes.Clone(cur.Bytes()))
			cur.Reset()
			continue
		}
		cur.Write(line)
	}
	return append(docs, cur.Bytes())
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
