package treetest

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// ReadOnly makes dir read-only until the test ends: a read-only bind mount
// for root (whom permissions do not stop), mode 0555 for anyone else. It
// skips the test when root may not mount.
func ReadOnly(t testing.TB, dir string) {
	t.Helper()
	if os.Geteuid() != 0 {
		chmodReadOnly(t, dir)
		return
	}
	if err := unix.Mount(dir, dir, "", unix.MS_BIND, ""); err != nil {
		t.Skipf("cannot bind-mount %s: %v", dir, err)
	}
	t.Cleanup(func() { Unmount(t, dir) })
	if err := unix.Mount("", dir, "", unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY, ""); err != nil {
		t.Skipf("cannot remount %s read-only: %v", dir, err)
	}
}
