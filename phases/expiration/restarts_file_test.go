package expiration

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/manifests/staticpods"
)

// TestRestartsFileNotRegular: a FIFO in place of .certctl-restarts.json
// blocked check-expiration (and certs list) in its read until killed: a
// cron check that never ends and metrics that go stale. It is an error
// naming the file and what it is, at once, as for every file certctl reads.
// A file that cannot be parsed says what to do once.
func TestRestartsFileNotRegular(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	path, err := staticpods.PendingPath(n.CertDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := Check(Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: checkAt})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "FIFO") {
			t.Errorf("FIFO %s: error %v, want one naming it and saying it is a FIFO", path, err)
		}
	case <-time.After(5 * time.Second):
		// Unblock the read so that the test ends.
		if f, err := os.OpenFile(path, os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Fatalf("Check blocked on the FIFO %s", path)
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Check(Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: checkAt})
	if err == nil || strings.Count(err.Error(), "remove") != 1 {
		t.Errorf("corrupt %s: error %v, want one hint (remove the file)", path, err)
	}
}
