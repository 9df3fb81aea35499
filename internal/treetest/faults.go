package treetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// RequireChattr skips the test unless chattr +i works here: Linux, root
// (CAP_LINUX_IMMUTABLE), the chattr command, and a file system with the
// flags, which a probe file in a folder of the test shows.
func RequireChattr(t testing.TB) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("immutable and append-only files are checked on Linux only")
	}
	if os.Geteuid() != 0 {
		t.Skip("chattr +i and +a need root (CAP_LINUX_IMMUTABLE)")
	}
	if _, err := exec.LookPath("chattr"); err != nil {
		t.Skipf("no chattr to make files immutable: %v", err)
	}
	probe := filepath.Join(t.TempDir(), "probe")
	if err := os.WriteFile(probe, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("chattr", "+i", probe).CombinedOutput(); err != nil {
		t.Skipf("the test file system does not support chattr +i: %v: %s", err, out)
	}
	if out, err := exec.Command("chattr", "-i", probe).CombinedOutput(); err != nil {
		t.Fatalf("chattr -i %s: %v: %s", probe, err, out)
	}
}

// Chattr runs chattr FLAG PATH ("+i", "-i", "+a"), skipping the test where
// chattr cannot work (RequireChattr). A flag it sets is cleared when the
// test ends, before t.TempDir's removal, which it would block.
func Chattr(t testing.TB, flag, path string) {
	t.Helper()
	RequireChattr(t)
	if out, err := exec.Command("chattr", flag, path).CombinedOutput(); err != nil {
		t.Fatalf("chattr %s %s: %v: %s", flag, path, err, out)
	}
	if flag[0] == '+' {
		t.Cleanup(func() { exec.Command("chattr", "-"+flag[1:], path).Run() })
	}
}

// FIFO makes a FIFO at path, in place of a file there: reading it blocks
// until something writes to it, unless the reader refuses it.
func FIFO(t testing.TB, path string) {
	t.Helper()
	os.Remove(path)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Unblocked runs f and returns its error, and fails the test if f has not
// returned within 5 s: a reader that blocks on a FIFO instead of refusing
// it. what names the call in that failure.
func Unblocked(t testing.TB, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		t.Fatalf("%s still blocked after 5s", what)
		return nil
	}
}
