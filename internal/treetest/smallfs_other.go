//go:build !linux

package treetest

import "testing"

// SmallFS mounts a small file system (Linux only): the test is skipped.
func SmallFS(t testing.TB, size int) string {
	t.Helper()
	t.Skip("a small file system needs a tmpfs mount (Linux only)")
	return ""
}

// Fill fills the file system of dir (Linux only).
func Fill(t testing.TB, dir string) { t.Helper(); t.Skip("Linux only") }
