package manifests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unicode/utf8"

	yamlv3 "go.yaml.in/yaml/v3"
	"sigs.k8s.io/yaml"
)

// text is a manifest's bytes with the node tree yaml.v3 reads from them.
// The nodes' positions say which bytes hold which value, so that an edit
// rewrites those bytes only: comments, line endings, key order, quoting and
// every other line stay as they are, and JSON stays JSON.
type text struct {
	src   []byte
	lines []int // byte offset of each line's start
	eol   string
	json  bool
	root  *yamlv3.Node // the document's top mapping
	edits []span
}

// span replaces src[start:end] with text.
type span struct {
	start, end int
	text       string
}

func parseText(data []byte) (*text, error) {
	// yaml.v3 also breaks lines at a lone CR, NEL, LS and PS; lines here
	// end at LF only.
	for _, b := range []string{"\u0085", "\u2028", "\u2029"} {
		if bytes.Contains(data, []byte(b)) {
			return nil, fmt.Errorf("manifests: the manifest holds a Unicode line separator; certctl edits only LF or CRLF lines: edit this manifest by hand")
		}
	}
	if bytes.Count(data, []byte("\r")) != bytes.Count(data, []byte("\r\n")) {
		return nil, fmt.Errorf("manifests: the manifest holds a CR that ends no CRLF line; certctl edits only LF or CRLF lines: edit this manifest by hand")
	}
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("manifests: read the manifest's layout: %w; edit this manifest by hand", err)
	}
	if doc.Kind != yamlv3.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yamlv3.MappingNode {
		return nil, fmt.Errorf("manifests: the manifest is not one mapping; edit it by hand")
	}
	t := &text{src: data, lines: []int{0}, eol: "\n", root: doc.Content[0]}
	if bytes.Contains(data, []byte("\r\n")) {
		t.eol = "\r\n"
	}
	t.json = bytes.HasPrefix(bytes.TrimLeft(data, " \t\r\n\ufeff"), []byte("{"))
	for i, b := range data {
		if b == '\n' {
			t.lines = append(t.lines, i+1)
		}
	}
	return t, nil
}

// refuse is the error for a value certctl cannot edit safely as text.
func refuse(n *yamlv3.Node, why string) error {
	return fmt.Errorf("manifests: line %d holds %s, which certctl cannot edit as text; rewrite it as plain one-line values, or make the change by hand", n.Line, why)
}

// offset is the byte offset of node n's first character.
func (t *text) offset(n *yamlv3.Node) (int, error) {
	if n.Line < 1 || n.Line > len(t.lines) {
		return 0, refuse(n, "a value yaml.v3 places outside the file")
	}
	off := t.lines[n.Line-1]
	for i := 1; i < n.Column; i++ { // yaml.v3 counts columns in characters
		if off >= len(t.src) || t.src[off] == '\n' {
			return 0, refuse(n, "a value yaml.v3 places outside its line")
		}
		_, w := utf8.DecodeRune(t.src[off:])
		off += w
	}
	return off, nil
}

// scalar returns the bytes of the one-line scalar n.
func (t *text) scalar(n *yamlv3.Node) (int, int, error) {
	if n.Kind != yamlv3.ScalarNode || n.Anchor != "" || n.Style&(yamlv3.TaggedStyle|yamlv3.LiteralStyle|yamlv3.FoldedStyle) != 0 {
		return 0, 0, refuse(n, "a tagged, anchored, aliased or block scalar")
	}
	start, err := t.offset(n)
	if err != nil {
		return 0, 0, err
	}
	s, end := t.src, -1
	switch {
	case n.Style&(yamlv3.DoubleQuotedStyle|yamlv3.SingleQuotedStyle) != 0:
		q := byte('\'')
		if n.Style&yamlv3.DoubleQuotedStyle != 0 {
			q = '"'
		}
		for i := start + 1; i < len(s) && s[i] != '\n' && end < 0; i++ {
			switch {
			case q == '"' && s[i] == '\\', q == '\'' && s[i] == '\'' && i+1 < len(s) && s[i+1] == '\'':
				i++ // an escape, or '' inside single quotes
			case s[i] == q:
				end = i + 1
			}
		}
	case n.Value != "" && bytes.HasPrefix(s[start:], []byte(n.Value)):
		end = start + len(n.Value)
	}
	if end < 0 {
		return 0, 0, refuse(n, "a value over several lines")
	}
	return start, end, nil
}

// end returns the offset just after node n's text.
func (t *text) end(n *yamlv3.Node) (int, error) {
	switch {
	case n.Kind == yamlv3.ScalarNode:
		_, e, err := t.scalar(n)
		return e, err
	case n.Kind != yamlv3.MappingNode && n.Kind != yamlv3.SequenceNode || n.Anchor != "":
		return 0, refuse(n, "an alias or anchor")
	case n.Style&yamlv3.FlowStyle != 0:
		return t.closing(n)
	case len(n.Content) == 0:
		return 0, refuse(n, "an empty block")
	}
	return t.end(n.Content[len(n.Content)-1])
}

// closing returns the offset after the bracket that closes flow collection n.
func (t *text) closing(n *yamlv3.Node) (int, error) {
	start, err := t.offset(n)
	if err != nil {
		return 0, err
	}
	s, depth, prev := t.src, 0, byte('[')
	for i := start; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			if depth--; depth == 0 {
				return i + 1, nil
			}
		case (c == '"' || c == '\'') && strings.IndexByte("[{,:", prev) >= 0:
			for i++; i < len(s) && s[i] != c; i++ {
				if c == '"' && s[i] == '\\' {
					i++
				}
			}
		case c == '#' && strings.IndexByte(" \t\n", s[i-1]) >= 0:
			for i+1 < len(s) && s[i+1] != '\n' {
				i++
			}
		}
		if strings.IndexByte(" \t\r\n", c) < 0 {
			prev = c
		}
	}
	return 0, refuse(n, "a bracket that is never closed")
}

func (t *text) lineStart(off int) int {
	return bytes.LastIndexByte(t.src[:off], '\n') + 1
}

func (t *text) lineEnd(off int) int {
	if i := bytes.IndexByte(t.src[off:], '\n'); i >= 0 {
		return off + i + 1
	}
	return len(t.src)
}

// step is the file's indentation step: how far metadata's keys are in.
func (t *text) step() string {
	for i := 1; i < len(t.root.Content); i += 2 {
		if v := t.root.Content[i]; v.Kind == yamlv3.MappingNode && v.Style&yamlv3.FlowStyle == 0 && len(v.Content) > 0 {
			if d := v.Content[0].Column - t.root.Content[0].Column; d > 0 {
				return strings.Repeat(" ", d)
			}
		}
	}
	return "  "
}

// insertLines inserts whole lines at off, a line's start.
func (t *text) insertLines(off int, lines []string) {
	s := strings.Join(lines, t.eol) + t.eol
	if off == len(t.src) && len(t.src) > 0 && t.src[off-1] != '\n' {
		s = t.eol + strings.TrimSuffix(s, t.eol)
	}
	t.edits = append(t.edits, span{off, off, s})
}

// ownLine checks that node n is alone on its lines but for a sequence dash
// before it and a comment after it, and returns its offset and those lines.
func (t *text) ownLine(n *yamlv3.Node) (start, ls, le int, err error) {
	if start, err = t.offset(n); err != nil {
		return 0, 0, 0, err
	}
	end, err := t.end(n)
	if err != nil {
		return 0, 0, 0, err
	}
	ls, le = t.lineStart(start), t.lineEnd(end)
	before := strings.TrimSpace(string(t.src[ls:start]))
	after := strings.TrimSpace(string(t.src[end:le]))
	if (before != "" && before != "-") || (after != "" && !strings.HasPrefix(after, "#")) {
		return 0, 0, 0, refuse(n, "an item that shares its line with another")
	}
	return start, ls, le, nil
}

// quote writes v as a scalar in the style of like (nil: the file's).
func (t *text) quote(v string, like *yamlv3.Node, flow bool) string {
	if t.json || (like != nil && like.Style&yamlv3.DoubleQuotedStyle != 0) {
		return jsonText(v)
	}
	if sq := "'" + strings.ReplaceAll(v, "'", "''") + "'"; like != nil && like.Style&yamlv3.SingleQuotedStyle != 0 && decodesTo(sq, v, flow) {
		return sq
	}
	if (like == nil || like.Style == 0) && decodesTo(v, v, flow) {
		return v
	}
	return jsonText(v)
}

// decodesTo reports whether scalar text s reads back as v with the
// decoder Parse uses, as a block value or in a flow sequence, and is a
// string to YAML 1.2 too (a plain timestamp is not: it gets quotes).
func decodesTo(s, v string, flow bool) bool {
	if s == "" || strings.ContainsAny(s, "\r\n\t") {
		return false
	}
	var n yamlv3.Node
	if yamlv3.Unmarshal([]byte(s), &n) != nil || len(n.Content) != 1 || n.Content[0].Tag != "!!str" {
		return false
	}
	doc, want := "k: "+s, interface{}(v)
	if flow {
		doc, want = "k: ["+s+"]", []interface{}{v}
	}
	var m map[string]interface{}
	return yaml.Unmarshal([]byte(doc), &m) == nil && reflect.DeepEqual(m["k"], want)
}

func jsonText(v interface{}) string {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetEscapeHTML(false)
	_ = e.Encode(v) // strings and API structs always encode
	return strings.TrimSuffix(b.String(), "\n")
}

// render writes v as the lines of a block value, or one JSON line.
func (t *text) render(v interface{}) ([]string, error) {
	if t.json {
		return []string{jsonText(v)}, nil
	}
	b, err := yaml.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("manifests: encode %T: %w", v, err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n"), nil
}

// apply returns the text with every edit made.
func (t *text) apply() ([]byte, error) {
	sort.SliceStable(t.edits, func(i, j int) bool { return t.edits[i].start < t.edits[j].start })
	var out bytes.Buffer
	at := 0
	for _, e := range t.edits {
		if e.start < at {
			return nil, fmt.Errorf("manifests: two edits of the same bytes (offset %d); make this change by hand", e.start)
		}
		out.Write(t.src[at:e.start])
		out.WriteString(e.text)
		at = e.end
	}
	out.Write(t.src[at:])
	return out.Bytes(), nil
}
