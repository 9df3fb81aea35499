package cli

import (
	"slices"
	"testing"
)

// TestCompletionVersionOutput: `certctl version -o <TAB>` offered the one
// candidate "short or json" (the flag's help, which the completion reads,
// spelled its formats in prose), which the shell inserted as is and
// version then refused. It offers short and json.
func TestCompletionVersionOutput(t *testing.T) {
	bin := certctlBin(t)
	got := complete(t, bin, "version", "-o", "")
	if !slices.Equal(got, []string{"short", "json"}) {
		t.Errorf("version -o: %q, want short and json", got)
	}
	for _, f := range got {
		if r := runCode(t, bin, "version", "-o", f); r.code != 0 {
			t.Errorf("version -o %s (completed): exit %d, %s", f, r.code, r.errOut)
		}
	}
}
