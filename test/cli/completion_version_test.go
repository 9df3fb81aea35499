package cli

import (
	"slices"
	"testing"
)

// TestCompletionVersionOutput: `certctl version -o <TAB>` offered the one
// candidate "short or json" (the flag's help, which the completion reads,
// spelled its formats in prose), which the shell inserted as is and
// version then refused. It offers every printing command's formats
// (internal/output) and short, and version takes each.
func TestCompletionVersionOutput(t *testing.T) {
	bin := certctlBin(t)
	got := complete(t, bin, "version", "-o", "")
	if want := []string{"text", "wide", "json", "yaml", "jsonpath=", "short"}; !slices.Equal(got, want) {
		t.Errorf("version -o: %q, want %q", got, want)
	}
	for _, f := range got {
		if f == "jsonpath=" { // completed to be followed by a template
			f += "{.version}"
		}
		if r := runCode(t, bin, "version", "-o", f); r.code != 0 || r.out == "" {
			t.Errorf("version -o %s (completed): exit %d, stdout %q, %s", f, r.code, r.out, r.errOut)
		}
	}
}
