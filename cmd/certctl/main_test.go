package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestPanicExitsFailure: a command that panics ends with exit status 1
// and one line saying it is a bug, not Go's status 2, which renew's timer
// counts as success and monitoring reads as "expires soon".
func TestPanicExitsFailure(t *testing.T) {
	root := &cobra.Command{Use: "certctl", SilenceUsage: true, RunE: func(*cobra.Command, []string) error { panic("boom") }}
	root.SetArgs(nil)
	var errOut bytes.Buffer
	if code := run(root, &errOut); code != 1 {
		t.Errorf("exit status %d, want 1", code)
	}
	if first, _, _ := strings.Cut(errOut.String(), "\n"); !strings.HasPrefix(first, "error: internal error: boom: this is a bug of certctl") {
		t.Errorf("first line %q, want the internal error", first)
	}
}
