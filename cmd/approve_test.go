package cmd

import (
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestApproveArgs: approve and deny take CSR names or --all-from-node,
// refused before any API call when both or neither are given.
func TestApproveArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"approve"}, "name at least one CSR, or pass --all-from-node NODE (see 'certctl approve --help')"},
		{[]string{"approve", "csr-1", "--all-from-node", "cp-1"}, "name CSRs or pass --all-from-node, not both"},
		{[]string{"deny", "--reason", "No"}, "name at least one CSR, or pass --all-from-node NODE (see 'certctl deny --help')"},
		{[]string{"deny", "csr-1", "--all-from-node", "cp-1", "--reason", "No"}, "not both"},
	} {
		_, _, err := execute(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestEachCSR: every CSR is tried even when one fails, each failure is
// printed, and the error counts them; with one name its error is the
// command's own.
func TestEachCSR(t *testing.T) {
	fail := func(name string) error {
		if name == "b" || name == "only" {
			return errors.New("no fit for " + name)
		}
		return nil
	}
	for _, tc := range []struct {
		names         []string
		tried         string
		wantErr, logs string
	}{
		{[]string{"a", "b", "c"}, "abc", "1 of 3 CSR(s) not approved, each listed above with the reason: b", "[approve] CSR b not approved: no fit for b\n"},
		{[]string{"a", "c"}, "ac", "", ""},
		{[]string{"only"}, "only", "no fit for only", ""},
	} {
		var tried strings.Builder
		cmd := &cobra.Command{}
		var errOut strings.Builder
		cmd.SetErr(&errOut)
		err := eachCSR(cmd, "approve", "approved", tc.names, func(n string) error {
			tried.WriteString(n)
			return fail(n)
		})
		if tried.String() != tc.tried {
			t.Errorf("%v: tried %q", tc.names, tried.String())
		}
		if (err == nil) != (tc.wantErr == "") || err != nil && err.Error() != tc.wantErr {
			t.Errorf("%v: error %v, want %q", tc.names, err, tc.wantErr)
		}
		if errOut.String() != tc.logs {
			t.Errorf("%v: stderr %q, want %q", tc.names, errOut.String(), tc.logs)
		}
	}
}
