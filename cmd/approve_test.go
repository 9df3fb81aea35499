package cmd

import (
	"strings"
	"testing"
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
