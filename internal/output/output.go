// Package output is certctl's one output convention for commands that print
// data, with kubectl's meanings: -o text (the default table, whose columns
// fit 100 columns, cut to a terminal's width), wide (every column), json and yaml (the command's versioned
// schema), jsonpath=TEMPLATE (kubectl's JSONPath on the JSON form).
package output

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"k8s.io/client-go/util/jsonpath"
	"sigs.k8s.io/yaml"

	"github.com/certctl/certctl/pki"
)

// Format is a parsed -o value.
type Format struct {
	Name     string // "text", "wide", "json", "yaml", "jsonpath", or a command's own
	template string // for jsonpath
}

// Formats are the values every printing command accepts; Help lists them
// for a flag's help text.
var Formats = []string{"text", "wide", "json", "yaml", "jsonpath=TEMPLATE"}

// Help is the -o flag's help text, with a command's own extra formats.
func Help(extra ...string) string {
	return "output format: " + formatList(extra)
}

// formatList lists Formats, then a command's extra ones.
func formatList(extra []string) string {
	return strings.Join(append(slices.Clone(Formats), extra...), ", ")
}

// Parse checks an -o value: one of Formats or of extra (a command's own,
// e.g. check-expiration's "prometheus"). An unknown one is an error that
// lists the valid ones, so that a command refuses it before any work.
func Parse(s string, extra ...string) (Format, error) {
	if t, ok := strings.CutPrefix(s, "jsonpath="); ok || s == "jsonpath" {
		if !ok || strings.TrimSpace(t) == "" {
			// kubectl refuses it too: an empty template prints nothing.
			return Format{}, fmt.Errorf("-o jsonpath needs a template: for example -o jsonpath='{.items[*].name}'")
		}
		if _, err := parseJSONPath(t); err != nil {
			return Format{}, err
		}
		return Format{Name: "jsonpath", template: t}, nil
	}
	switch {
	case s == "" || s == "text":
		return Format{Name: "text"}, nil
	case s == "wide" || s == "json" || s == "yaml" || slices.Contains(extra, s):
		return Format{Name: s}, nil
	}
	return Format{}, fmt.Errorf("unknown output format %q: use %s", s, formatList(extra))
}

// Structured is whether f prints the command's schema (json, yaml,
// jsonpath) rather than the lines or table of text and wide: a summary a
// script reads, printed also after an error.
func (f Format) Structured() bool {
	return f.Name == "json" || f.Name == "yaml" || f.Name == "jsonpath"
}

// Print writes obj in f: json, yaml or jsonpath from obj's JSON form, text
// and wide with table(wide).
func (f Format) Print(w io.Writer, obj any, table func(w io.Writer, wide bool) error) error {
	switch f.Name {
	case "text", "wide":
		return table(w, f.Name == "wide")
	case "json":
		b, err := json.MarshalIndent(obj, "", "  ")
		if err != nil {
			return fmt.Errorf("encode output: %w", err)
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	case "yaml":
		b, err := yaml.Marshal(obj)
		if err != nil {
			return fmt.Errorf("encode output: %w", err)
		}
		_, err = w.Write(b)
		return err
	case "jsonpath":
		data, err := jsonForm(obj)
		if err != nil {
			return fmt.Errorf("encode output: %w", err)
		}
		jp, err := parseJSONPath(f.template)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := jp.Execute(&buf, data); err != nil {
			return fmt.Errorf("jsonpath %q: %w", f.template, err)
		}
		if buf.Len() > 0 && !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
			buf.WriteByte('\n')
		}
		_, err = buf.WriteTo(w)
		return err
	}
	return fmt.Errorf("output format %q is not printed here", f.Name)
}

// jsonForm is obj's JSON form as kubectl's JSONPath reads an object
// (unstructured): an integer is an int64, so that it prints as 31535831
// rather than float64's 3.1535831e+07 and compares with a template's
// integer (?(@.residualTime<2592000)); other numbers are float64s.
func jsonForm(obj any) (any, error) {
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var data any
	if err := d.Decode(&data); err != nil {
		return nil, err
	}
	return numbers(data), nil
}

// numbers replaces each json.Number in v with an int64, or a float64 when
// it is not an integer.
func numbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			v[k] = numbers(e)
		}
	case []any:
		for i, e := range v {
			v[i] = numbers(e)
		}
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	}
	return v
}

// parseJSONPath parses a template as kubectl does: missing keys print
// nothing rather than fail (kubectl's --allow-missing-template-keys).
func parseJSONPath(t string) (*jsonpath.JSONPath, error) {
	jp := jsonpath.New("output").AllowMissingKeys(true)
	if err := jp.Parse(t); err != nil {
		return nil, fmt.Errorf("bad jsonpath template %q: %w (for example: -o jsonpath='{.items[*].name}')", t, err)
	}
	return jp, nil
}

// HelpFormats are the formats a Help text lists, for shell completion: the
// flag's help is the one place a command's formats are written.
// "jsonpath=TEMPLATE" is completed as "jsonpath=", to be followed by a
// template.
func HelpFormats(help string) []string {
	list, ok := strings.CutPrefix(help, "output format: ")
	if !ok {
		return nil
	}
	list, _, _ = strings.Cut(list, ":")
	formats := strings.Split(list, ", ")
	for i, f := range formats {
		formats[i] = strings.TrimSuffix(f, "TEMPLATE")
	}
	return formats
}

// ShellQuote quotes s for a POSIX shell when it needs it, so that a
// printed command works as printed (pki.ShellQuote, which pki's errors
// use for the commands they print).
func ShellQuote(s string) string { return pki.ShellQuote(s) }

// CountingWriter counts the bytes written through it to W: a command that
// prints its summary also after an error knows from N whether it did.
type CountingWriter struct {
	W io.Writer
	N int
}

func (c *CountingWriter) Write(p []byte) (int, error) {
	n, err := c.W.Write(p)
	c.N += n
	return n, err
}
