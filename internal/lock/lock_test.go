package lock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	testclock "k8s.io/utils/clock/testing"
)

func TestAcquireRelease(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".certctl.lock")
	l, err := AcquireWait(context.Background(), p, Wait{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(p)
	if h := ReadHolder(p); h.PID != os.Getpid() || h.Command != strings.Join(os.Args, " ") || time.Since(h.Since) > time.Minute {
		t.Errorf("lock file holds %q (%+v), want our pid, command line and the time", b, h)
	}
	if st, _ := os.Stat(p); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", st.Mode().Perm())
	}
	// A second holder (another open file description) waits, then fails naming us.
	start := time.Now()
	_, err = AcquireWait(context.Background(), p, Wait{Timeout: 200 * time.Millisecond})
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
	l2, err := AcquireWait(context.Background(), p, Wait{})
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	l2.Release()
}

func TestWaiterGetsLockWhenHolderReleases(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	l, _ := AcquireWait(context.Background(), p, Wait{})
	go func() {
		time.Sleep(100 * time.Millisecond)
		l.Release()
	}()
	l2, err := AcquireWait(context.Background(), p, Wait{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	l2.Release()
}

// TestWaiterLocksTheFileAtPath: a holder that removes the lock file
// before it releases it (a command that made the folder and wrote nothing
// there) does not leave its waiter holding the removed file, which a third
// command, creating the file again, would lock too.
func TestWaiterLocksTheFileAtPath(t *testing.T) {
	p := filepath.Join(t.TempDir(), "lock")
	l, err := AcquireWait(context.Background(), p, Wait{})
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		os.Remove(p)
		l.Release()
	}()
	l2, err := AcquireWait(context.Background(), p, Wait{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Release()
	held, _ := l2.f.Stat()
	at, err := os.Stat(p)
	if err != nil || !os.SameFile(held, at) {
		t.Errorf("the waiter holds a lock on a removed file, not on %s (%v)", p, err)
	}
}

// TestMain lets the test binary act as a lock holder in a child process.
func TestMain(m *testing.M) {
	if p := os.Getenv("LOCK_TEST_HOLD"); p != "" {
		if _, err := AcquireWait(context.Background(), p, Wait{}); err != nil {
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
	_, err = AcquireWait(context.Background(), p, Wait{})
	var held *HeldError
	if !errors.As(err, &held) || held.PID != cmd.Process.Pid {
		t.Fatalf("err = %v, want the child (pid %d) named", err, cmd.Process.Pid)
	}
	cmd.Process.Kill()
	cmd.Wait()
	l, err := AcquireWait(context.Background(), p, Wait{Timeout: 2 * time.Second})
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

// TestWaitProgress: a process waiting for the lock says at once who holds
// it (pid, command, since when) and then one line every progressInterval, with
// an injected clock; none without Progress (--quiet).
func TestWaitProgress(t *testing.T) {
	p := filepath.Join(t.TempDir(), ".certctl.lock")
	held, err := AcquireWait(context.Background(), p, Wait{})
	if err != nil {
		t.Fatal(err)
	}
	since := ReadHolder(p).Since
	clk := testclock.NewFakeClock(since.Add(2 * time.Minute))
	var mu sync.Mutex
	var out strings.Builder
	w := writerFunc(func(b []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return out.Write(b) })
	text := func() string { mu.Lock(); defer mu.Unlock(); return out.String() }
	got := make(chan error, 1)
	go func() {
		l, err := AcquireWait(context.Background(), p, Wait{Timeout: 5 * time.Minute, Progress: w, Clock: clk})
		if err == nil {
			l.Release()
		}
		got <- err
	}()
	waitUntil(t, func() bool { return strings.Count(text(), "\n") == 1 })
	holder := fmt.Sprintf("another certctl (pid %d, %q, since %s", os.Getpid(), strings.Join(os.Args, " "), since.UTC().Format(time.RFC3339))
	if first := text(); !strings.HasPrefix(first, "[lock] "+holder+", 2m0s ago) holds the lock "+p+"; waiting up to 5m0s for it (--lock-timeout)\n") {
		t.Fatalf("first line %q", first)
	}
	// A line at 10s and at 20s, none in between.
	for _, n := range []int{2, 3} {
		clk.Step(10 * time.Second)
		waitUntil(t, func() bool { return strings.Count(text(), "\n") == n })
	}
	for i := 0; i < 9; i++ {
		clk.Step(time.Second)
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.Contains(text(), "[lock] Still waiting after 20s for "+holder+", 2m20s ago) to release the lock "+p+" (giving up after 5m0s)\n") {
		t.Errorf("output:\n%s", text())
	}
	held.Release()
	for done := false; !done; {
		select {
		case err := <-got:
			if err != nil {
				t.Fatal(err)
			}
			done = true
		case <-time.After(time.Millisecond):
			clk.Step(100 * time.Millisecond)
		}
	}
	if n := strings.Count(text(), "\n"); n != 3 {
		t.Errorf("%d lines in 29s, want 3:\n%s", n, text())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }

func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestReadHolder reads the three-line format and the older ones: a PID
// alone (a certctl before the format), a PID and a command; what is not a
// PID is an unknown holder.
func TestReadHolder(t *testing.T) {
	since := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name, content string
		want          Holder
	}{
		{"full", "4242\ncertctl renew all\n2026-03-01T12:00:00Z\n", Holder{PID: 4242, Command: "certctl renew all", Since: since}},
		{"pid only", "4242\n", Holder{PID: 4242}},
		{"pid and command", "4242\ncertctl renew all", Holder{PID: 4242, Command: "certctl renew all"}},
		{"bad time", "4242\ncertctl\nyesterday\n", Holder{PID: 4242, Command: "certctl"}},
		{"not a pid", "certctl\n", Holder{}},
		{"empty", "", Holder{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), FileName)
			if err := os.WriteFile(p, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if got := ReadHolder(p); !got.Since.Equal(tt.want.Since) || got.PID != tt.want.PID || got.Command != tt.want.Command {
				t.Errorf("ReadHolder = %+v, want %+v", got, tt.want)
			}
		})
	}
	if got := ReadHolder(filepath.Join(t.TempDir(), "missing")); got != (Holder{}) {
		t.Errorf("missing file: ReadHolder = %+v, want the zero Holder", got)
	}
}
