package manifests

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	yamlv3 "go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
)

// rewrite returns data, which decodes to old, edited as text so that it
// decodes to want. The fields the patches change are edited: the
// annotations, and each container's command, args and volume mounts, and
// the pod's volumes; their other lines and every other byte stay. The result
// is decoded again and must be want, or nothing is returned.
func rewrite(data []byte, old, want *corev1.Pod) ([]byte, error) {
	t, err := parseText(data)
	if err != nil {
		return nil, err
	}
	if err := t.editAnnotations(old.Annotations, want.Annotations); err != nil {
		return nil, err
	}
	spec := lookup(t.root, "spec")
	for _, cs := range []struct {
		key      string
		old, new []corev1.Container
	}{{"containers", old.Spec.Containers, want.Spec.Containers}, {"initContainers", old.Spec.InitContainers, want.Spec.InitContainers}} {
		seq := lookup(spec, cs.key)
		for i := range cs.old {
			if seq == nil || seq.Kind != yamlv3.SequenceNode || len(seq.Content) != len(cs.old) || len(cs.new) != len(cs.old) {
				return nil, fmt.Errorf("manifests: the %s of the manifest's text and of its pod differ; edit it by hand", cs.key)
			}
			c, o, n := seq.Content[i], cs.old[i], cs.new[i]
			for _, l := range []struct {
				key      string
				old, new []interface{}
			}{{"command", items(o.Command), items(n.Command)}, {"args", items(o.Args), items(n.Args)}, {"volumeMounts", items(o.VolumeMounts), items(n.VolumeMounts)}} {
				if err := t.editList(c, l.key, l.old, l.new); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := t.editList(spec, "volumes", items(old.Spec.Volumes), items(want.Spec.Volumes)); err != nil {
		return nil, err
	}
	out, err := t.apply()
	if err != nil {
		return nil, err
	}
	got, err := Parse(out)
	if err != nil {
		return nil, fmt.Errorf("manifests: the manifest edited as text does not decode: %w; make this change by hand", err)
	}
	if !apiequality.Semantic.DeepEqual(got, want) {
		return nil, fmt.Errorf("manifests: editing the manifest as text would not give the intended pod; make this change by hand")
	}
	return out, nil
}

// items returns the elements of a slice as interface values.
func items[T any](list []T) []interface{} {
	var out []interface{}
	for _, e := range list {
		out = append(out, e)
	}
	return out
}

// lookup returns the value of key in mapping m, nil when absent.
func lookup(m *yamlv3.Node, key string) *yamlv3.Node {
	if m == nil || m.Kind != yamlv3.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// editAnnotations sets the annotations of want that old lacks or has
// with another value.
func (t *text) editAnnotations(old, want map[string]string) error {
	var keys []string
	for k, v := range want {
		if ov, ok := old[k]; !ok || ov != v {
			keys = append(keys, k)
		}
	}
	for k := range old {
		if _, ok := want[k]; !ok {
			return fmt.Errorf("manifests: removing annotation %s is not supported", k)
		}
	}
	sort.Strings(keys)
	meta := lookup(t.root, "metadata")
	if len(keys) > 0 && meta == nil {
		return fmt.Errorf("manifests: the manifest has no metadata; add one by hand")
	}
	ann := lookup(meta, "annotations")
	if ann == nil && len(keys) > 0 {
		m := map[string]string{}
		for _, k := range keys {
			m[k] = want[k]
		}
		return t.addKey(meta, "annotations", m)
	}
	for _, k := range keys {
		if err := t.setKey(ann, k, want[k]); err != nil {
			return err
		}
	}
	return nil
}

// setKey gives key in mapping m the string value v. addKey refuses an m
// that is not a mapping, where lookup finds nothing.
func (t *text) setKey(m *yamlv3.Node, key, v string) error {
	n := lookup(m, key)
	if n == nil {
		return t.addKey(m, key, v)
	}
	return t.setScalar(n, v, m.Style&yamlv3.FlowStyle != 0)
}

// setScalar rewrites the one-line scalar n as v, quoted in n's style; flow
// says n is an entry of a flow collection.
func (t *text) setScalar(n *yamlv3.Node, v string, flow bool) error {
	start, end, err := t.scalar(n)
	if err != nil {
		return err
	}
	t.edits = append(t.edits, span{start, end, t.quote(v, n, flow)})
	return nil
}

// addKey adds key: v as the last pair of mapping m.
func (t *text) addKey(m *yamlv3.Node, key string, v interface{}) error {
	if m.Kind != yamlv3.MappingNode {
		return refuse(m, "a field that is not a mapping")
	}
	flow := m.Style&yamlv3.FlowStyle != 0
	if flow || t.json {
		return t.insertFlow(m, len(m.Content)/2, t.quote(key, nil, true)+": "+t.flowText(v, m, nil), 2)
	}
	if len(m.Content) == 0 {
		return refuse(m, "an empty block mapping")
	}
	end, err := t.end(m.Content[len(m.Content)-1])
	if err != nil {
		return err
	}
	in := strings.Repeat(" ", m.Content[0].Column-1) // where a sibling key starts
	k := t.quote(key, nil, false)
	if s, ok := v.(string); ok {
		t.insertLines(t.lineEnd(end), []string{in + k + ": " + t.quote(s, nil, false)})
		return nil
	}
	lines, err := t.render(v)
	if err != nil {
		return err
	}
	sub := in // a sequence goes at its key's indentation, as kubeadm writes it
	if !strings.HasPrefix(lines[0], "- ") {
		sub = in + t.step()
	}
	for i := range lines {
		lines[i] = sub + lines[i]
	}
	t.insertLines(t.lineEnd(end), append([]string{in + k + ":"}, lines...))
	return nil
}

// editList makes the sequence under key in mapping parent hold want
// instead of old: each element changed, added or removed on its own.
func (t *text) editList(parent *yamlv3.Node, key string, old, want []interface{}) error {
	keys := func(l []interface{}) []string {
		var out []string
		for _, e := range l {
			out = append(out, jsonText(e))
		}
		return out
	}
	ok, wk := keys(old), keys(want)
	if slices.Equal(ok, wk) {
		return nil
	}
	seq := lookup(parent, key)
	if seq == nil || (seq.Kind == yamlv3.ScalarNode && seq.Tag == "!!null") {
		if len(old) > 0 || seq != nil {
			return fmt.Errorf("manifests: %s of the manifest's text and of its pod differ; edit it by hand", key)
		}
		return t.addKey(parent, key, want)
	}
	if seq.Kind != yamlv3.SequenceNode || len(seq.Content) != len(old) {
		return refuse(seq, key+" written in a form certctl does not edit")
	}
	for _, op := range difflib.NewMatcher(ok, wk).GetOpCodes() {
		i1, i2, j1, j2 := op.I1, op.I2, op.J1, op.J2
		switch {
		case op.Tag == 'e':
			continue
		case op.Tag == 'r' && i2-i1 == j2-j1:
			for k := 0; k < i2-i1; k++ {
				if err := t.replaceItem(seq, i1+k, want[j1+k]); err != nil {
					return err
				}
			}
			continue
		}
		for k := i1; k < i2; k++ {
			if err := t.removeItem(seq, k); err != nil {
				return err
			}
		}
		// New items take the quoting of an item that stays, not of one
		// removed here ("--flag" "value" as two items, the value quoted,
		// becoming one "--flag=value").
		var style *yamlv3.Node
		switch {
		case i1 > 0:
			style = seq.Content[i1-1]
		case i2 < len(seq.Content):
			style = seq.Content[i2]
		}
		for k := j1; k < j2; k++ {
			if err := t.insertItem(seq, i2, want[k], style); err != nil {
				return err
			}
		}
	}
	return nil
}

func (t *text) replaceItem(seq *yamlv3.Node, i int, v interface{}) error {
	s, ok := v.(string)
	if !ok {
		return refuse(seq.Content[i], "a changed list item that is not a string")
	}
	return t.setScalar(seq.Content[i], s, seq.Style&yamlv3.FlowStyle != 0)
}

func (t *text) removeItem(seq *yamlv3.Node, i int) error {
	n := seq.Content[i]
	if seq.Style&yamlv3.FlowStyle == 0 {
		_, ls, le, err := t.ownLine(n)
		if err != nil {
			return err
		}
		t.edits = append(t.edits, span{ls, le, ""})
		return nil
	}
	start, err := t.offset(n)
	if err != nil {
		return err
	}
	end, err := t.end(n)
	if err != nil {
		return err
	}
	switch {
	case i > 0:
		if start, err = t.end(seq.Content[i-1]); err != nil {
			return err
		}
	case len(seq.Content) > 1:
		if end, err = t.offset(seq.Content[1]); err != nil {
			return err
		}
	}
	t.edits = append(t.edits, span{start, end, ""})
	return nil
}

// insertItem inserts v before item i of seq (after the last one when i is
// the length), in the quoting and indentation of style, else of its
// neighbour.
func (t *text) insertItem(seq *yamlv3.Node, i int, v interface{}, style *yamlv3.Node) error {
	if seq.Style&yamlv3.FlowStyle != 0 {
		like := style
		if like == nil && len(seq.Content) > 0 {
			like = seq.Content[max(i-1, 0)]
		}
		return t.insertFlow(seq, i, t.flowText(v, seq, like), 1)
	}
	like := seq.Content[max(i-1, 0)]
	_, ls, le, err := t.ownLine(like)
	if err != nil {
		return err
	}
	if style != nil {
		like = style
	}
	start, sls, _, err := t.ownLine(like)
	if err != nil {
		return err
	}
	prefix := string(t.src[sls:start])
	if i == 0 {
		le = ls
	}
	lines := []string{}
	if s, ok := v.(string); ok {
		lines = append(lines, prefix+t.quote(s, like, false))
	} else {
		r, err := t.render(v)
		if err != nil {
			return err
		}
		for k, l := range r {
			p := prefix
			if k > 0 {
				p = strings.Repeat(" ", len(prefix))
			}
			lines = append(lines, p+l)
		}
	}
	t.insertLines(le, lines)
	return nil
}

// flowText writes v for flow collection n: a string quoted in the style of
// like (nil: the file's); a structured value on one line in YAML, indented
// as n's entries in a JSON file that has an entry per line.
func (t *text) flowText(v interface{}, n, like *yamlv3.Node) string {
	if s, ok := v.(string); ok {
		return t.quote(s, like, true)
	}
	if !t.json || len(n.Content) == 0 {
		return jsonText(v)
	}
	at, err := t.offset(n.Content[0])
	if err != nil || strings.TrimSpace(string(t.src[t.lineStart(at):at])) != "" {
		return jsonText(v)
	}
	b, err := json.MarshalIndent(v, string(t.src[t.lineStart(at):at]), "  ")
	if err != nil {
		return jsonText(v)
	}
	return strings.ReplaceAll(string(b), "\n", t.eol)
}

// insertFlow inserts entry s before entry i of flow collection n, whose
// content holds per nodes an entry; the separator is copied from the
// collection's own.
func (t *text) insertFlow(n *yamlv3.Node, i int, s string, per int) error {
	content := n.Content
	count := len(content) / per
	if count == 0 {
		start, err := t.offset(n)
		if err != nil {
			return err
		}
		t.edits = append(t.edits, span{start + 1, start + 1, s})
		return nil
	}
	sep := ", "
	if count == 1 {
		at, err := t.offset(content[0])
		if err != nil {
			return err
		}
		if ls := t.lineStart(at); strings.TrimSpace(string(t.src[ls:at])) == "" {
			sep = "," + t.eol + string(t.src[ls:at])
		}
	} else {
		a, err := t.end(content[per-1])
		if err != nil {
			return err
		}
		b, err := t.offset(content[per])
		if err != nil {
			return err
		}
		sep = string(t.src[a:b])
	}
	if i < count {
		at, err := t.offset(content[i*per])
		if err != nil {
			return err
		}
		t.edits = append(t.edits, span{at, at, s + sep})
		return nil
	}
	at, err := t.end(content[len(content)-1])
	if err != nil {
		return err
	}
	t.edits = append(t.edits, span{at, at, sep + s})
	return nil
}
