package lock

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestAcquireRelease(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".certctl.lock")
	l, err := Acquire(context.Background(), p, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q, want our pid", b)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	// A second holder (another open file description) waits, then fails naming us.
	start := time.Now()
	_, err = Acquire(context.Background(), p, 200*time.Millisecond)
	var held *HeldError
	if !errors.As(err, &held) || held.PID != os.Getpid() {
		t.Fatalf("err = %v, want HeldError with our pid", err)
	}
	if time.Since(start) < 200*time.Millisecond {
		t.Error("did not wait for the timeout")
	}
	if !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) || !strings.Contains(err.Error(), p) {
		t.Errorf("message %q does not name the holder and file", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := Acquire(context.Background(), p, 0)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	l2.Release()
}

func TestWaiterGetsLockWhenHolderReleases(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	l, _ := Acquire(context.Background(), p, 0)
	go func() {
		time.Sleep(100 * time.Millisecond)
		l.Release()
	}()
	l2, err := Acquire(context.Background(), p, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	l2.Release()
}

// A holder that is killed leaves no stale lock: the kernel drops it.
func TestKilledHolderReleases(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	if _, err := exec.LookPath("flock"); err != nil {
		t.Fatal("flock(1) not installed: it comes with util-linux")
	}
	cmd := exec.Command("flock", p, "sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		l, err := Acquire(context.Background(), p, 0)
		if err != nil {
			break // the child holds it
		}
		l.Release() // we were first: let the child take it
		if time.Now().After(deadline) {
			t.Fatal("child never took the lock")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := Acquire(context.Background(), p, 2*time.Second)
	if err != nil {
		t.Fatalf("lock still held after the holder died: %v", err)
	}
	l.Release()
}
