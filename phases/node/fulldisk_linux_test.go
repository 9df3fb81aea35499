package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/certctl/certctl/internal/treetest"
)

// TestLockOnFullFileSystem: on a file system with no inode left for the
// lock file (it did not exist yet), check-expiration, with an interrupted
// run's folder to recover, failed with only "open lock file X: no space
// left on device", so monitoring saw no certificate; and a command that
// writes said nothing of what to do. The reader now reads the files as
// they are, saying why on one line, as on a read-only file system; the
// writer's error says to free space, and that nothing was changed.
func TestLockOnFullFileSystem(t *testing.T) {
	mnt := t.TempDir()
	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "size=1m,nr_inodes=16"); err != nil {
		t.Skipf("cannot mount a tmpfs on %s (needs CAP_SYS_ADMIN): %v", mnt, err)
	}
	t.Cleanup(func() { treetest.Unmount(t, mnt) })
	certDir := filepath.Join(mnt, "pki")
	for _, d := range []string{certDir, filepath.Join(mnt, ".certctl-txn")} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; ; i++ {
		err := os.WriteFile(filepath.Join(mnt, fmt.Sprint("fill", i)), nil, 0o600)
		if errors.Is(err, syscall.ENOSPC) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}

	var errOut bytes.Buffer
	read := false
	err := Read(context.Background(), &errOut, certDir, []string{mnt}, func() error { read = true; return nil })
	if err != nil || !read {
		t.Errorf("Read: %v (read %v), want the files read as they are", err, read)
	}
	if got := errOut.String(); strings.Count(got, "\n") != 1 || !strings.Contains(got, "the file system of "+mnt+" is full") || !strings.Contains(got, "as they are") {
		t.Errorf("errOut %q, want one line saying the file system is full and the files are read as they are", got)
	}

	_, err = Lock(context.Background(), io.Discard, certDir, 0, mnt)
	if err == nil || !strings.Contains(err.Error(), "no space left on device: free space on the file system of "+mnt) || !strings.HasSuffix(err.Error(), "then run certctl again; nothing was changed") {
		t.Errorf("Lock: %v; want it to say to free space, and that nothing was changed", err)
	}
}
