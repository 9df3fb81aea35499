package cli

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/treetest"
)

// syncBuffer is a bytes.Buffer that the test reads while certctl writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fullPipe returns the write end of a pipe whose buffer is full and whose
// reader never reads: a `certctl ... | consumer` whose consumer hangs.
// certctl's first write to it blocks in the kernel, where no context
// reaches.
func fullPipe(t *testing.T) *os.File {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	fd := int(w.Fd())
	if err := syscall.SetNonblock(fd, true); err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 4096)
	for {
		if _, err := syscall.Write(fd, chunk); errors.Is(err, syscall.EAGAIN) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.SetNonblock(fd, false); err != nil {
		t.Fatal(err)
	}
	return w
}

// interruptCase is one command to interrupt: ready is what it prints (on
// stdout or stderr) once it waits; "" when it prints nothing before it
// waits, the test then sends the signal after a second.
type interruptCase struct {
	name  string
	args  []string
	ready string
	// stdout, when set, is certctl's standard output.
	stdout *os.File
	// want is what the last line on stderr must say.
	want string
}

// TestSignals sends SIGTERM, SIGINT and SIGHUP (the ssh session that ran
// it went away) to certctl commands while they wait
// (for the lock, --jitter, key generation, an API server that never
// answers) or are blocked (writing to a full pipe): each ends within a
// second with exit status 143 for SIGTERM (which the timer unit counts as
// a success), 130 for SIGINT and SIGHUP, and "interrupted; nothing was
// changed" on stderr, and the node's folders are byte-identical.
func TestSignals(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")

	// Another certctl holds the lock (this test, with certctl's own lock
	// package); taken before the snapshots, since it writes its PID.
	lockPath, err := lock.Beside(n.certDir)
	if err != nil {
		t.Fatal(err)
	}

	// An API server that accepts connections and never answers.
	blackhole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer blackhole.Close()
	hung := hungKubeconfig(t, n, blackhole.Addr().String())

	// A node with only its CA, for init-phase certs all with slow keys.
	fresh := filepath.Join(t.TempDir(), "etc-kubernetes")
	run(t, bin, "init-phase", "certs", "ca", "--cert-dir", filepath.Join(fresh, "pki"))

	const nothing = "interrupted; nothing was changed"
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		cases := []interruptCase{
			{name: "check-expiration to a hung pipe", args: append([]string{"check-expiration"}, n.flags()...), stdout: fullPipe(t), want: nothing},
			{name: "renew waiting for the lock", args: append([]string{"renew", "all", "--lock-timeout", "1h"}, n.flags()...), want: nothing},
			{name: "renew --jitter", args: append([]string{"renew", "all", "--jitter", "10h"}, n.flags()...), ready: "[jitter] waiting", want: nothing},
			{name: "renew --use-api to a hung API server", args: append([]string{"renew", "all", "--use-api", "--kubeconfig", hung}, n.flags()...),
				ready: "[renew] Renewing through the certificates API", want: nothing},
			{name: "init-phase certs all generating keys", args: []string{"init-phase", "certs", "all", "--cert-dir", filepath.Join(fresh, "pki"),
				"--encryption-algorithm", "RSA-4096", "--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10"},
				// By then apiserver.crt and .key are written: they are removed again.
				ready: `[certs] Generating "apiserver-kubelet-client" certificate and key`, want: nothing + ": removed the "},
		}
		for _, c := range cases {
			t.Run(sig.String()+"/"+c.name, func(t *testing.T) {
				dir := n.dir
				if strings.HasPrefix(c.args[0], "init-phase") {
					dir = fresh
				}
				if strings.Contains(c.name, "lock") {
					l, err := lock.AcquireWait(t.Context(), lockPath, lock.Wait{})
					if err != nil {
						t.Fatal(err)
					}
					defer l.Release()
				}
				// init-phase takes the lock while it generates keys: the lock
				// file then holds its PID, as after any command that writes.
				snapshot := func() map[string]string {
					m := treetest.Snapshot(t, dir)
					delete(m, filepath.Join(dir, ".certctl.lock"))
					return m
				}
				before := snapshot()
				stderr, code := interrupt(t, bin, c, sig)
				last := lastLine(stderr)
				if !strings.HasPrefix(last, "error: "+c.want) {
					t.Errorf("last line on stderr %q, want it to start with %q; stderr:\n%s", last, "error: "+c.want, stderr)
				}
				want := exitcode.Interrupted
				if sig == syscall.SIGTERM {
					want = exitcode.Terminated // systemd's stop: the timer counts it a success
				}
				if code != want {
					t.Errorf("exit status %d, want %d", code, want)
				}
				treetest.AssertSame(t, before, snapshot())
			})
		}
	}
}

// TestSignerRunStops: signer run is a daemon; SIGTERM or SIGINT is how it
// is stopped (SIGHUP too, when the terminal that ran it goes away), even while it cannot reach its API server: it ends within a
// second with status 0 and no error.
func TestSignerRunStops(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	blackhole, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer blackhole.Close()
	hung := hungKubeconfig(t, n, blackhole.Addr().String())
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			// --control-plane-node: the nodes are not learned from the API
			// server, whose list would be waited for 30 s before it starts.
			c := interruptCase{args: []string{"signer", "run", "--kubeconfig", hung, "--cert-dir", n.certDir, "--listen-address", "127.0.0.1:0",
				"--control-plane-node", "cp-1=198.51.100.10"}, ready: "[signer] Signing for"}
			stderr, code := interrupt(t, bin, c, sig)
			if code != 0 || strings.Contains(stderr, "error:") {
				t.Errorf("exit status %d, want 0 without an error:\n%s", code, stderr)
			}
		})
	}
}

// hungKubeconfig writes n's admin.conf with its server at addr, a listener
// that never answers.
func hungKubeconfig(t *testing.T, n node, addr string) string {
	t.Helper()
	admin, err := os.ReadFile(filepath.Join(n.dir, "admin.conf"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(admin), "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), "server: ") {
			lines[i] = "    server: https://" + addr
		}
	}
	path := filepath.Join(t.TempDir(), "hung.conf")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// interrupt starts certctl, sends sig once it waits (c.ready) and returns
// its stderr and exit status; it fails the test unless certctl ends within
// a second of the signal.
func interrupt(t *testing.T, bin string, c interruptCase, sig syscall.Signal) (string, int) {
	t.Helper()
	if sig == syscall.SIGHUP {
		unignoreHangup(t)
	}
	var stdout, stderr syncBuffer
	cmd := exec.Command(bin, c.args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if c.stdout != nil {
		cmd.Stdout = c.stdout
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if c.ready == "" {
		// Nothing to see: a second is ample for Go to install its
		// handlers and certctl to start waiting.
		select {
		case err := <-exited:
			t.Fatalf("certctl %s ended before the signal: %v\n%s%s", strings.Join(c.args, " "), err, stdout.String(), stderr.String())
		case <-time.After(time.Second):
		}
	} else {
		deadline := time.After(30 * time.Second)
		for !strings.Contains(stdout.String()+stderr.String(), c.ready) {
			select {
			case err := <-exited:
				t.Fatalf("certctl %s ended before it printed %q: %v\n%s%s", strings.Join(c.args, " "), c.ready, err, stdout.String(), stderr.String())
			case <-deadline:
				cmd.Process.Kill()
				t.Fatalf("certctl %s did not print %q within 30s:\n%s%s", strings.Join(c.args, " "), c.ready, stdout.String(), stderr.String())
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	sent := time.Now()
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	var err error
	select {
	case err = <-exited:
	case <-time.After(time.Second):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("certctl %s did not end within 1s of %v:\n%s", strings.Join(c.args, " "), sig, stderr.String())
	}
	t.Logf("ended %v after %v", sig, time.Since(sent).Round(time.Millisecond))
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	if exit != nil && exit.Exited() == false {
		t.Fatalf("certctl was killed by the signal instead of handling it: %v\n%s", err, stderr.String())
	}
	return stderr.String(), cmd.ProcessState.ExitCode()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// unignoreHangup makes the certctl this test starts begin with SIGHUP's
// default, as from a terminal: a test run under nohup (or a CI runner that
// ignores SIGHUP) passes the ignore on to every process it starts, and
// certctl then rightly keeps SIGHUP ignored (TestSignalHangupUnderNohup).
// A signal this process handles is reset to its default in the processes
// it starts; os/signal handles it, no longer ignored, while the test runs.
func unignoreHangup(t *testing.T) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGHUP)
	t.Cleanup(func() { signal.Stop(ch) })
}
