package output

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

type sample struct {
	Kind  string   `json:"kind"`
	Items []string `json:"items"`
}

func TestPrint(t *testing.T) {
	obj := sample{Kind: "Sample", Items: []string{"a", "b"}}
	table := func(w io.Writer, wide bool) error {
		_, err := fmt.Fprintf(w, "table wide=%v\n", wide)
		return err
	}
	for _, tc := range []struct {
		format, want string
	}{
		{"", "table wide=false\n"},
		{"text", "table wide=false\n"},
		{"wide", "table wide=true\n"},
		{"json", "{\n  \"kind\": \"Sample\",\n  \"items\": [\n    \"a\",\n    \"b\"\n  ]\n}\n"},
		{"yaml", "items:\n- a\n- b\nkind: Sample\n"},
		{"jsonpath={.items[1]}", "b\n"},
		{"jsonpath={.missing}", ""},
	} {
		t.Run(tc.format, func(t *testing.T) {
			f, err := Parse(tc.format)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := f.Print(&b, obj, table); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got %q, want %q", b.String(), tc.want)
			}
		})
	}
}

func TestParseRefuses(t *testing.T) {
	for _, s := range []string{"xml", "jsonpath={.items[", "JSON", "jsonpath=", "jsonpath", "jsonpath= "} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q) accepted", s)
		}
	}
	if f, err := Parse("prometheus", "prometheus"); err != nil || f.Name != "prometheus" {
		t.Errorf("a command's own format: %v %v", f, err)
	}
}

func TestWidth(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want int
	}{{"", DefaultWidth}, {"80", 80}, {"250", 250}, {"0", DefaultWidth}, {"wide", DefaultWidth},
		// A narrow pane or a stray COLUMNS=1 would cut every row to "…":
		// wrapped lines are readable, rows of "NAME  …" are not.
		{"1", MinWidth}, {"12", MinWidth}, {"-5", DefaultWidth}} {
		t.Setenv("COLUMNS", tc.env)
		// A buffer is not a terminal.
		if got := Width(&bytes.Buffer{}); got != tc.want {
			t.Errorf("COLUMNS=%q: width %d, want %d", tc.env, got, tc.want)
		}
	}
}

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		s     string
		width int
		want  string
	}{{"abc", 3, "abc"}, {"abcd", 3, "ab…"}, {"héllo", 4, "hél…"}, {"abc", 0, "abc"}} {
		if got := Cut(tc.s, tc.width); got != tc.want {
			t.Errorf("Cut(%q, %d) = %q, want %q", tc.s, tc.width, got, tc.want)
		}
	}
}

func TestWrap(t *testing.T) {
	for _, tc := range []struct {
		s     string
		width int
		want  string
	}{
		{"a bb ccc dddd", 8, "a bb ccc\n  dddd"},
		{"a bb ccc dddd", 100, "a bb ccc dddd"},
		{"averyveryverylongword b", 5, "averyveryverylongword\n  b"},
	} {
		if got := Wrap(tc.s, tc.width, "  "); got != tc.want {
			t.Errorf("Wrap(%q, %d) = %q, want %q", tc.s, tc.width, got, tc.want)
		}
	}
}
