package lock

import (
	"context"
	"errors"
	"io"
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

// TestMain lets the test binary act as a lock holder in a child process.
func TestMain(m *testing.M) {
	if p := os.Getenv("LOCK_TEST_HOLD"); p != "" {
		if _, err := Acquire(context.Background(), p, 0); err != nil {
			os.Exit(3)
		}
		os.Stdout.WriteString("locked\n")
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A holder that is killed leaves no stale lock: the kernel drops it.
func TestKilledHolderReleases(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LOCK_TEST_HOLD="+p)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 7)
	if _, err := io.ReadFull(out, buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("holder did not lock: %q %v", buf, err)
	}
	_, err = Acquire(context.Background(), p, 0)
	var held *HeldError
	if !errors.As(err, &held) || held.PID != cmd.Process.Pid {
		t.Fatalf("err = %v, want the child (pid %d) named", err, cmd.Process.Pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := Acquire(context.Background(), p, 2*time.Second)
	if err != nil {
		t.Fatalf("lock still held after the holder died: %v", err)
	}
	l.Release()
}

func TestBeside(t *testing.T) {
	for dir, want := range map[string]string{
		"/etc/kubernetes/pki":       "/etc/kubernetes/.certctl.lock",
		"/etc/kubernetes/pki/":      "/etc/kubernetes/.certctl.lock",
		"/etc/kubernetes/manifests": "/etc/kubernetes/.certctl.lock",
	} {
		if got, err := Beside(dir); err != nil || got != want {
			t.Errorf("Beside(%q) = %q, %v; want %q", dir, got, err, want)
		}
	}
}
