package cli

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/certctl/certctl/internal/lock"
)

// TestLockOnNewNode: `init-phase certs all` on a node whose /etc/kubernetes
// does not exist yet holds certctl's lock while it writes, as on any other
// node: without it, two runs at once (cloud-init and a retried job) each
// wrote a CA and signed leaves with their own, leaving certificates that
// the CA on disk did not sign, or a key that does not match its
// certificate, and exit 0. A run that fails there changes nothing: no
// folder, no lock file.
func TestLockOnNewNode(t *testing.T) {
	bin := certctlBin(t)
	id := []string{"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10"}
	etc := filepath.Join(t.TempDir(), "etc", "kubernetes")
	cmd := exec.Command(bin, append([]string{"init-phase", "certs", "all", "--cert-dir", filepath.Join(etc, "pki")}, id...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// "[certs] Using certificateDir folder": the command runs its phases.
	if _, err := bufio.NewReader(out).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGSTOP)
	f, err := os.Open(filepath.Join(etc, lock.FileName))
	if err == nil {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		f.Close()
	}
	cmd.Process.Signal(syscall.SIGCONT)
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Errorf("init-phase certs all in a new folder %s does not hold the lock %s while it writes: %v", etc, lock.FileName, err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}

	failing := filepath.Join(t.TempDir(), "etc", "kubernetes")
	if code, _, stderr := runAll(t, nil, bin, append([]string{"init-phase", "certs", "apiserver", "--cert-dir", filepath.Join(failing, "pki")}, id...)...); code == 0 {
		t.Fatalf("init-phase certs apiserver without its CA succeeded: %s", stderr)
	}
	if _, err := os.Lstat(filepath.Dir(failing)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("init-phase certs apiserver, which failed, left %s: %v", filepath.Dir(failing), err)
	}
}
