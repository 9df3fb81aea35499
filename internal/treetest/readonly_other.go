//go:build !linux

package treetest

import (
	"os"
	"testing"
)

// ReadOnly makes dir read-only until the test ends (mode 0555). Root,
// whom permissions do not stop, needs a read-only mount, which only the
// Linux version makes: the test is skipped.
func ReadOnly(t testing.TB, dir string) {
	t.Helper()
	if os.Geteuid() == 0 {
		t.Skip("a read-only folder for root needs a bind mount (Linux only)")
	}
	chmodReadOnly(t, dir)
}
