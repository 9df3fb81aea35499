package cmd

import (
	"io"
	"strings"
	"testing"
)

// TestUsageLineOptionalFlag: a flag the usage line names outside brackets
// is one the command cannot go without. certs upload makes and prints a
// key when --certificate-key is not given (and --config has none), as
// kubeadm does; its usage line said KEY was needed.
func TestUsageLineOptionalFlag(t *testing.T) {
	root := NewRootCommand(io.Discard, io.Discard)
	for path, want := range map[string]string{
		"certs upload":   "certctl certs upload [--certificate-key KEY] [flags]",
		"certs download": "certctl certs download --certificate-key KEY [flags]",
	} {
		c, _, err := root.Find(strings.Fields(path))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.UseLine(); got != want {
			t.Errorf("%s: usage %q, want %q", path, got, want)
		}
	}
}
