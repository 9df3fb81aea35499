package cli

import (
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/treetest"
)

// TestSignalHangupUnderNohup: certctl cancels its command on SIGHUP (the
// ssh session that ran it went away, TestSignals), but not when it was
// started with SIGHUP ignored (nohup, or a shell's trap "" HUP): Go's
// signal.Notify would take it back from ignored, and the end of the
// session would then stop a renewal its user meant to outlive it. The
// command goes on waiting, and SIGTERM still ends it.
func TestSignalHangupUnderNohup(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	snapshot := holdLock(t, n)
	before := snapshot()

	args := append([]string{"-c", `trap "" HUP; exec "$0" "$@"`, bin, "renew", "all", "--lock-timeout", "1h"}, n.flags()...)
	cmd := exec.Command("sh", args...)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(stdout.String()+stderr.String(), "waiting up to") {
		select {
		case err := <-exited:
			t.Fatalf("certctl ended before it waited for the lock: %v\n%s%s", err, stdout.String(), stderr.String())
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("certctl did not say it waits for the lock within 30s:\n%s%s", stdout.String(), stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		t.Fatalf("certctl started with SIGHUP ignored ended on SIGHUP: %v\n%s", err, stderr.String())
	case <-time.After(2 * time.Second):
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("certctl did not end within 10s of SIGTERM:\n%s", stderr.String())
	}
	if code := cmd.ProcessState.ExitCode(); code != exitcode.Terminated {
		t.Errorf("exit status %d after SIGTERM, want %d:\n%s", code, exitcode.Terminated, stderr.String())
	}
	if last := lastLine(stderr.String()); !strings.HasPrefix(last, "error: interrupted; nothing was changed") {
		t.Errorf("last line %q, want it to say that nothing was changed", last)
	}
	treetest.AssertSame(t, before, snapshot())
}

// holdLock takes certctl's lock of n for the test, as another certctl
// would hold it, and returns a snapshot of n's folder without the lock
// file, which records its holder.
func holdLock(t *testing.T, n node) func() map[string]string {
	t.Helper()
	lockPath, err := lock.Beside(n.certDir)
	if err != nil {
		t.Fatal(err)
	}
	l, err := lock.AcquireWait(t.Context(), lockPath, lock.Wait{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Release() })
	return func() map[string]string {
		m := treetest.Snapshot(t, n.dir)
		delete(m, filepath.Join(n.dir, ".certctl.lock"))
		return m
	}
}
