package cli

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestReaderGoneWhileWriting: certctl's output piped into `head -2`, whose
// reader goes away after two lines, does not end a command that has
// taken certctl's lock halfway (Go's default for a write to a broken
// stdout is to die of SIGPIPE at once): `init-phase certs all` writes
// every file, as a run to a terminal does, and says on stderr that its
// output was cut. A command that has not taken the lock (certs list) still
// ends at once, silently, with the shell's status 141.
func TestReaderGoneWhileWriting(t *testing.T) {
	bin := certctlBin(t)
	id := []string{"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10"}
	whole := filepath.Join(t.TempDir(), "pki")
	run(t, bin, append([]string{"init-phase", "certs", "all", "--cert-dir", whole}, id...)...)
	want := files(t, whole)

	cut := filepath.Join(t.TempDir(), "pki")
	// "Using certificateDir folder", `Generating "ca"`: the third line
	// is written after the CA.
	code, stderr := firstLines(t, 2, bin, append([]string{"init-phase", "certs", "all", "--cert-dir", cut}, id...)...)
	if got := files(t, cut); !slices.Equal(got, want) {
		t.Errorf("init-phase certs all | head -2 (exit %d) left %v, want every file %v\nstderr: %s", code, got, want, stderr)
	}
	if code != 0 || !strings.Contains(stderr, "output was cut") {
		t.Errorf("init-phase certs all | head -2: exit %d, stderr %q; want 0 and a line saying the output was cut", code, stderr)
	}

	code, stderr = firstLines(t, 0, bin, "certs", "list", "--cert-dir", whole, "--kubeconfig-dir", filepath.Dir(whole))
	if code != 128+int(syscall.SIGPIPE) || strings.Contains(stderr, "output was cut") || strings.Contains(stderr, "error") {
		t.Errorf("certs list | head -1: exit %d, stderr %q; want 141 and nothing said", code, stderr)
	}
}

// firstLines runs certctl with its stdout read up to the nth line, then
// closed, as `| head -n` does (n 0: closed before certctl writes, as
// `| true`), and returns its exit status (128+N for a signal N, as a shell
// says) and stderr.
func firstLines(t *testing.T, n int, bin string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	for range n {
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatalf("read the first %d lines of certctl %s: %v", n, strings.Join(args, " "), err)
		}
	}
	out.Close()
	err = cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), stderr.String()
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// files lists the regular files under dir, relative to it.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, rel)
		}
		return nil
	})
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	return out
}
