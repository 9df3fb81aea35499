package lock

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// staleRecord writes into the lock file at path the record of a certctl
// that has finished: its PID is no process's.
func staleRecord(t *testing.T, path string) int {
	t.Helper()
	done := exec.Command("true")
	if err := done.Run(); err != nil {
		t.Fatal(err)
	}
	pid := done.Process.Pid
	h := Holder{PID: pid, Command: "certctl init-phase kubeconfig all", Since: time.Now().Add(-time.Hour)}
	if err := os.WriteFile(path, h.marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	return pid
}

// holdWithFlock holds the lock file at path with flock(1), which writes no
// record, until the test ends; it returns flock's PID.
func holdWithFlock(t *testing.T, path string) int {
	t.Helper()
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("no flock(1) to hold the lock as another program would")
	}
	cmd := exec.Command("flock", path, "sh", "-c", "echo locked; exec sleep 60")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "locked\n" {
		t.Fatalf("flock did not lock: %q %v", line, err)
	}
	return cmd.Process.Pid
}

// TestHeldErrorNamesTheRealHolder: when the lock file's record is from a
// process that has finished and another program holds the lock, the error
// names that program (the kernel's /proc/locks says who holds it), never
// the recorded PID, which an SRE might kill.
func TestHeldErrorNamesTheRealHolder(t *testing.T) {
	p := filepath.Join(t.TempDir(), FileName)
	stale := staleRecord(t, p)
	pid := holdWithFlock(t, p)
	var progress strings.Builder
	_, err := AcquireWait(context.Background(), p, Wait{Timeout: 100 * time.Millisecond, Progress: &progress})
	var held *HeldError
	if !errors.As(err, &held) {
		t.Fatalf("err = %v, want a HeldError", err)
	}
	for what, text := range map[string]string{"error": err.Error(), "progress": progress.String()} {
		if strings.Contains(text, fmt.Sprintf("pid %d", stale)) || strings.Contains(text, "another certctl") {
			t.Errorf("%s %q names the finished process %d", what, text, stale)
		}
		if !strings.Contains(text, fmt.Sprintf("another process (pid %d, \"flock %s sh -c", pid, p)) {
			t.Errorf("%s %q does not name flock (pid %d)", what, text, pid)
		}
	}
	if held.PID != pid {
		t.Errorf("HeldError.PID = %d, want flock's %d", held.PID, pid)
	}
}

// TestUnprovenHolderIsNotNamed: where the kernel does not say who holds
// the lock, the recorded PID is named only when it is a live certctl;
// otherwise the message says another process holds it and how to find it.
func TestUnprovenHolderIsNotNamed(t *testing.T) {
	defer func(old string) { procLocks = old }(procLocks)
	procLocks = filepath.Join(t.TempDir(), "no-proc-locks")

	p := filepath.Join(t.TempDir(), FileName)
	stale := staleRecord(t, p)
	unknown := func(t *testing.T, pid int) {
		t.Helper()
		err := (&HeldError{Path: p, Holder: CurrentHolder(p), Waited: time.Second}).Error()
		if strings.Contains(err, fmt.Sprintf("pid %d", pid)) || !strings.Contains(err, "another process holds the lock "+p) ||
			!strings.Contains(err, "fuser -v "+p) || !strings.Contains(err, "lsof "+p) {
			t.Errorf("error %q: want another process, how to find it, and not pid %d", err, pid)
		}
	}
	unknown(t, stale)

	// A live process that is not certctl.
	sleep := exec.Command("sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { sleep.Process.Kill(); sleep.Wait() }()
	h := Holder{PID: sleep.Process.Pid, Command: "certctl renew all", Since: time.Now()}
	if err := os.WriteFile(p, h.marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	unknown(t, sleep.Process.Pid)

	// A live certctl (this process: its program is certctl's here).
	h = Holder{PID: os.Getpid(), Command: strings.Join(os.Args, " "), Since: time.Now()}
	if err := os.WriteFile(p, h.marshal(), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := CurrentHolder(p); got.PID != os.Getpid() || got.Command != h.Command {
		t.Errorf("CurrentHolder = %+v, want the record of this live process", got)
	}
}

// TestCertificateKeyMasked: the certificate key given on the command line
// (certs download, ca rotate) is neither kept in the lock file, which
// stays after the run, nor printed by a command that finds the lock
// held, into the logs of cron and monitoring: its value is "<masked>".
func TestCertificateKeyMasked(t *testing.T) {
	const key = "0f1e2d3c4b5a69780f1e2d3c4b5a69780f1e2d3c4b5a69780f1e2d3c4b5a6978"
	for _, tt := range []struct {
		name, command, want string
	}{
		{"separate", "certctl certs download --certificate-key " + key + " --cert-dir /etc/kubernetes/pki",
			"certctl certs download --certificate-key <masked> --cert-dir /etc/kubernetes/pki"},
		{"with =", "certctl ca rotate ca --certificate-key=" + key + " --restart-control-plane",
			"certctl ca rotate ca --certificate-key=<masked> --restart-control-plane"},
		{"last, twice", "certctl certs download --certificate-key=x --certificate-key " + key,
			"certctl certs download --certificate-key=<masked> --certificate-key <masked>"},
		{"no value", "certctl certs download --certificate-key", "certctl certs download --certificate-key"},
		{"none", "certctl renew all --cert-dir /etc/kubernetes/pki", "certctl renew all --cert-dir /etc/kubernetes/pki"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := Holder{PID: os.Getpid(), Command: tt.command, Since: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			if got, want := string(h.marshal()), fmt.Sprintf("%d\n%s\n2026-03-01T12:00:00Z\n", h.PID, tt.want); got != want {
				t.Errorf("lock file record:\n%q\nwant\n%q", got, want)
			}
			// A record written by a certctl before the mask, read while
			// its holder (this test) holds the lock.
			p := filepath.Join(t.TempDir(), FileName)
			record := fmt.Sprintf("%d\n%s\n2026-03-01T12:00:00Z\n", h.PID, tt.command)
			if err := os.WriteFile(p, []byte(record), 0o600); err != nil {
				t.Fatal(err)
			}
			held, err := os.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			defer held.Close()
			if err := syscall.Flock(int(held.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
				t.Fatal(err)
			}
			var progress strings.Builder
			_, err = AcquireWait(context.Background(), p, Wait{Timeout: 10 * time.Millisecond, Progress: &progress})
			var he *HeldError
			if !errors.As(err, &he) {
				t.Fatalf("AcquireWait = %v, want a *HeldError", err)
			}
			for what, s := range map[string]string{"error": err.Error(), "progress": progress.String(), "holder": CurrentHolder(p).String()} {
				if strings.Contains(s, key) || !strings.Contains(s, strconv.Quote(tt.want)) {
					t.Errorf("%s %q: want the command as %q", what, s, tt.want)
				}
			}
		})
	}
}
