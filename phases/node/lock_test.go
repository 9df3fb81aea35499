package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/lock"
)

func TestWithPermissionHint(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&fs.PathError{Op: "open", Path: "/etc/kubernetes/.certctl.lock", Err: syscall.EACCES}, "run certctl as root, or fix the permissions"},
		{&fs.PathError{Op: "open", Path: "/etc/kubernetes/.certctl.lock", Err: syscall.EROFS}, "remount the file system read-write (--dry-run writes nothing)"},
		{errors.New("other"), "other"},
	} {
		if got := WithPermissionHint(tt.err).Error(); !strings.HasSuffix(got, tt.want) {
			t.Errorf("WithPermissionHint(%v) = %q, want it to end with %q", tt.err, got, tt.want)
		}
	}
}

// TestLockReporting: a command waiting for the lock says who holds it
// (pid, command line, since when) on its progress writer, and nothing
// when that is io.Discard (--quiet); the error at --lock-timeout names
// the holder the same way.
func TestLockReporting(t *testing.T) {
	dir := t.TempDir()
	certDir := filepath.Join(dir, "pki")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	path, err := lock.Beside(certDir)
	if err != nil {
		t.Fatal(err)
	}
	held, err := lock.AcquireWait(context.Background(), path, lock.Wait{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	holder := fmt.Sprintf("another certctl (pid %d, %q, since ", os.Getpid(), strings.Join(os.Args, " "))
	for _, quiet := range []bool{false, true} {
		var errOut, progress bytes.Buffer
		var w io.Writer = &progress
		if quiet {
			w = io.Discard
		}
		_, err := LockReporting(context.Background(), &errOut, w, certDir, 200*time.Millisecond)
		if err == nil || !strings.Contains(err.Error(), holder) || !strings.Contains(err.Error(), "holds the lock "+path+": waited") {
			t.Errorf("quiet %v: %v", quiet, err)
		}
		if got := progress.String(); errOut.Len() > 0 || quiet != (got == "") || !quiet && !strings.HasPrefix(got, "[lock] "+holder) {
			t.Errorf("quiet %v: progress %q, errOut %q", quiet, got, errOut.String())
		}
	}
}

// TestRecoverSkippedNamesTheRealHolder: a read-only command that finds the
// lock taken skips recovery and says who holds it as a lock wait does
// (lock.Holder): the process the kernel lists as the lock's holder, with
// its command line, never the stale PID of the lock file's last record (an
// SRE might kill an unrelated process), nor "pid 0" when it is unknown.
func TestRecoverSkippedNamesTheRealHolder(t *testing.T) {
	certDir := filepath.Join(t.TempDir(), "pki")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	path, err := lock.Beside(certDir)
	if err != nil {
		t.Fatal(err)
	}
	l, err := lock.AcquireWait(context.Background(), path, lock.Wait{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	// The record of a certctl that has finished.
	if err := os.WriteFile(path, []byte("999999\ncertctl renew all\n2026-03-01T12:00:00Z\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	release, locked, err := recoverIfUnlocked(context.Background(), &errOut, certDir)
	if err != nil || locked {
		t.Fatalf("recoverIfUnlocked = %v, locked %v; want it skipped", err, locked)
	}
	release()
	got := errOut.String()
	// This process runs the same program as the test binary: a certctl.
	if !strings.Contains(got, fmt.Sprintf("[recover] skipped: another certctl (pid %d, %q", os.Getpid(), strings.Join(os.Args, " "))) || strings.Contains(got, "999999") {
		t.Errorf("got %q, want it to name this process (pid %d) and its command line, not the stale record", got, os.Getpid())
	}
}
