package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestCopyCertsDownloadRefusalsChangeNothing: `certs download` (kubeadm's
// copycerts, a control-plane node joining with the certificate key) made
// the certificate folder before it took certctl's lock, so a refusal after
// that point (the lock held, a signal while waiting for it) left a new
// folder while it said nothing was changed. Against a real API server
// holding the Secret, each refusal exits non-zero with one line naming
// the object and what to do, and every file and folder of the node is as
// it was (certctl's lock file aside).
func TestCopyCertsDownloadRefusalsChangeNothing(t *testing.T) {
	bin := certctlBin(t)
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	admin := c.Kubeconfig(pki.AdminKubeconfig)
	key := strings.TrimSpace(run(t, bin, "certs", "certificate-key"))
	run(t, bin, "certs", "upload", "--certificate-key", key, "--cert-dir", c.PKIDir(), "--kubeconfig", admin)
	other := strings.TrimSpace(run(t, bin, "certs", "certificate-key"))
	holdLock := func(t *testing.T, parent string) {
		l, err := lock.AcquireWait(context.Background(), filepath.Join(parent, lock.FileName), lock.Wait{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Release() })
	}

	for _, tc := range []struct {
		name string
		// dir is --cert-dir, relative to the node's folder.
		dir     string
		prepare func(t *testing.T, parent string)
		args    []string // instead of --certificate-key KEY
		want    []string
	}{
		{name: "wrong certificate key", dir: "pki", args: []string{"--certificate-key", other},
			want: []string{"does not decrypt kubeadm-certs", "pass the key the upload printed"}},
		{name: "certificate key of the wrong length", dir: "pki", args: []string{"--certificate-key", key[:32]},
			want: []string{"--certificate-key", "16 bytes", "64 hex digits"}},
		{name: "lock held by another certctl", dir: "pki", prepare: holdLock, args: []string{"--certificate-key", key, "--lock-timeout", "0"},
			want: []string{lock.FileName, "--lock-timeout"}},
		{name: "wrong key on a node without its folders yet", dir: "etc/kubernetes/pki", args: []string{"--certificate-key", other},
			want: []string{"does not decrypt kubeadm-certs", "pass the key the upload printed"}},
		{name: "another cluster's CA on disk", dir: "pki",
			prepare: func(t *testing.T, parent string) {
				if err := os.MkdirAll(filepath.Join(parent, "pki"), 0o755); err != nil {
					t.Fatal(err)
				}
				other := makeNode(t, bin, "ECDSA-P256")
				data, err := os.ReadFile(filepath.Join(other.certDir, "ca.crt"))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(parent, "pki", "ca.crt"), data, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"ca.crt differ from the cluster's", "nothing was written", "aside"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent := t.TempDir()
			if tc.prepare != nil {
				tc.prepare(t, parent)
			}
			args := tc.args
			if args == nil {
				args = []string{"--certificate-key", key}
			}
			before := nodeTree(t, parent)
			r := runCode(t, bin, append([]string{"certs", "download", "--cert-dir", filepath.Join(parent, tc.dir), "--kubeconfig", admin}, args...)...)
			if r.code == 0 {
				t.Fatalf("exit 0, want a refusal\n%s%s", r.out, r.errOut)
			}
			msg := strings.TrimSpace(r.errOut)
			if strings.Contains(msg, "\n") {
				t.Errorf("stderr is not one line:\n%s", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("stderr %q does not mention %q", msg, w)
				}
			}
			treetest.AssertSame(t, before, nodeTree(t, parent))
		})
	}

	// SIGTERM while waiting for another certctl's lock: exit 143, and no
	// certificate folder made.
	t.Run("signal while waiting for the lock", func(t *testing.T) {
		parent := t.TempDir()
		holdLock(t, parent)
		before := nodeTree(t, parent)
		cmd := exec.Command(bin, "certs", "download", "--cert-dir", filepath.Join(parent, "pki"), "--kubeconfig", admin, "--certificate-key", key, "--lock-timeout", "1m")
		var stderr syncBuffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(30 * time.Second)
		for !strings.Contains(stderr.String(), "holds the lock") && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitcode.Terminated {
			t.Errorf("exit %v, want 143\n%s", err, stderr.String())
		}
		treetest.AssertSame(t, before, nodeTree(t, parent))
	})
}

// nodeTree is treetest.Snapshot of a node's folder without certctl's lock
// file, which a command leaves beside the folders it guards.
func nodeTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := treetest.Snapshot(t, dir)
	delete(m, filepath.Join(dir, lock.FileName))
	return m
}
