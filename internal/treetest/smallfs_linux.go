package treetest

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// SmallFS mounts a tmpfs of size bytes on a new temporary folder, which it
// returns, until the test ends: a file system of its own, to fill (Fill)
// or make read-only. It skips the test where mounting is not allowed (no
// CAP_SYS_ADMIN); this project's machines and CI run as root and can.
func SmallFS(t testing.TB, size int) string {
	t.Helper()
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size="+strconv.Itoa(size)); err != nil {
		t.Skipf("cannot mount a tmpfs on %s (needs CAP_SYS_ADMIN): %v", dir, err)
	}
	t.Cleanup(func() { Unmount(t, dir) })
	return dir
}

// Fill fills the file system of dir to its last byte, with a file "fill"
// in dir: the next write there fails with ENOSPC.
func Fill(t testing.TB, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "fill"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	block := make([]byte, 1024)
	for {
		if _, err := f.Write(block); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}
