package treetest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestUnmountBusy: a mount with a file open below it is busy; Unmount
// detaches it, so that the test leaves no mount behind (txn's bind-mount
// test left three tmpfs mounts in /tmp when another package's test had a
// folder of them open at its cleanup).
func TestUnmountBusy(t *testing.T) {
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=65536"); err != nil {
		t.Skipf("cannot mount a tmpfs on %s (needs CAP_SYS_ADMIN): %v", dir, err)
	}
	f, err := os.Create(filepath.Join(dir, "open"))
	if err != nil {
		unix.Unmount(dir, unix.MNT_DETACH)
		t.Fatal(err)
	}
	defer f.Close()
	Unmount(t, dir)
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mounts), " "+dir+" ") {
		unix.Unmount(dir, unix.MNT_DETACH)
		t.Errorf("%s is still mounted", dir)
	}
}
