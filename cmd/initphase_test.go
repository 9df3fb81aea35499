package cmd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// nodeID are the flags that make init-phase independent of this host.
var nodeID = []string{"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10", "--encryption-algorithm", "ECDSA-P256"}

// holdLock holds certctl's lock file path, as another certctl would, until
// the test ends.
func holdLock(t *testing.T, path string) {
	t.Helper()
	l, err := lock.AcquireWait(context.Background(), path, lock.Wait{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Release() })
}

// TestDryRunWritesNothing: a dry run takes no lock and recovers nothing, so
// that it writes nothing, not even the lock file; it works on a read-only
// /etc/kubernetes and does not wait for another certctl.
func TestDryRunWritesNothing(t *testing.T) {
	tests := []struct {
		name string
		args func(n *pkitest.Node, csrDir string) []string
		plan string
	}{
		{"certs all", func(n *pkitest.Node, _ string) []string {
			return []string{"init-phase", "certs", "all", "--cert-dir", n.CertDir()}
		}, "[dry-run] 0 file(s) would be written"},
		{"kubeconfig all", func(n *pkitest.Node, _ string) []string {
			return []string{"init-phase", "kubeconfig", "all", "--cert-dir", n.CertDir(), "--kubeconfig-dir", n.Dir}
		}, "[dry-run] 0 file(s) would be written"},
		{"certs all --use-csr", func(n *pkitest.Node, csrDir string) []string {
			return []string{"init-phase", "certs", "all", "--cert-dir", n.CertDir(), "--use-csr", "--csr-dir", csrDir}
		}, "[dry-run] 21 file(s) would be written"},
	}
	for _, tt := range tests {
		args := func(t *testing.T, n *pkitest.Node) []string {
			csrDir := filepath.Join(t.TempDir(), "csr")
			return append(append(tt.args(n, csrDir), nodeID...), "--dry-run", "--lock-timeout", "0s")
		}
		t.Run(tt.name, func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			a := args(t, n)
			before := treetest.Snapshot(t, filepath.Dir(n.Dir))
			out, _, err := execute(t, a...)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, tt.plan) {
				t.Errorf("output lacks %q:\n%s", tt.plan, out)
			}
			treetest.AssertSame(t, before, treetest.Snapshot(t, filepath.Dir(n.Dir)))
		})
		t.Run(tt.name+", lock held", func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			holdLock(t, filepath.Join(n.Dir, lock.FileName))
			if _, _, err := execute(t, args(t, n)...); err != nil {
				t.Fatalf("dry run waited for the lock: %v", err)
			}
		})
		t.Run(tt.name+", read-only", func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			a := args(t, n)
			treetest.ReadOnly(t, n.Dir) // /etc/kubernetes; the CSR folder is elsewhere
			if out, _, err := execute(t, a...); err != nil {
				t.Fatalf("dry run on a read-only folder: %v\n%s", err, out)
			}
		})
	}
}

// TestDryRunRecoversNothing: what a real run would recover first (here a
// temporary file a killed write left) is only reported by a dry run.
func TestDryRunRecoversNothing(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	left := filepath.Join(n.CertDir(), ".apiserver.key.tmp-12345")
	if err := os.WriteFile(left, []byte("half a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, n.Dir)
	for _, args := range [][]string{
		{"init-phase", "certs", "all", "--dry-run", "--cert-dir", n.CertDir()},
		{"init-phase", "kubeconfig", "all", "--dry-run", "--cert-dir", n.CertDir(), "--kubeconfig-dir", n.Dir},
	} {
		_, errOut, err := execute(t, append(args, nodeID...)...)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(errOut, "[dry-run] an interrupted renewal or write") || !strings.Contains(errOut, n.CertDir()) {
			t.Errorf("%s: stderr does not report what a real run would recover:\n%s", args[1], errOut)
		}
		treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
	}
}

// TestUseCSRLocksTheCSRFolder: --use-csr locks beside the folder it
// writes, the CSR folder, and never touches the certificate folder's parent,
// not even to create the lock file there.
func TestUseCSRLocksTheCSRFolder(t *testing.T) {
	dir := t.TempDir()
	etc, out := filepath.Join(dir, "etc"), filepath.Join(dir, "out")
	for _, d := range []string{etc, out} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	args := append([]string{"init-phase", "certs", "all", "--use-csr", "--csr-dir", filepath.Join(out, "csr"),
		"--cert-dir", filepath.Join(etc, "pki"), "--lock-timeout", "0s"}, nodeID...)

	// Another certctl working on the CSR folder: refused, nothing written.
	held := filepath.Join(out, lock.FileName)
	l, err := lock.AcquireWait(context.Background(), held, lock.Wait{})
	if err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, dir)
	_, _, err = execute(t, args...)
	var heldErr *lock.HeldError
	if !errors.As(err, &heldErr) || heldErr.Path != held {
		t.Errorf("with the CSR folder's lock held: err = %v, want it held at %s", err, held)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, dir))
	l.Release()

	// Another certctl working on the certificate folder: no matter.
	holdLock(t, filepath.Join(etc, lock.FileName))
	before = treetest.Snapshot(t, etc)
	if _, _, err := execute(t, args...); err != nil {
		t.Fatal(err)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, etc))
	if _, err := os.Stat(filepath.Join(out, "csr", "apiserver.csr")); err != nil {
		t.Errorf("no CSR written: %v", err)
	}
}

// TestInitReadsAdminConfOfKubeconfigDir: without --config, the commands
// that make certificates read the kubeadm-config ConfigMap through the
// admin.conf of --kubeconfig-dir, never /etc/kubernetes/admin.conf when
// another folder is given.
func TestInitReadsAdminConfOfKubeconfigDir(t *testing.T) {
	for _, args := range [][]string{
		{"init-phase", "certs", "all"},
		{"init-phase", "kubeconfig", "all"},
		{"certs", "generate-csr", "--csr-dir", "CSR"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			dir := t.TempDir()
			kc := filepath.Join(dir, "kubeconfigs")
			if err := os.Mkdir(kc, 0o700); err != nil {
				t.Fatal(err)
			}
			a := append(append([]string{}, args...), "--dry-run", "--cert-dir", filepath.Join(dir, "pki"), "--kubeconfig-dir", kc)
			for i := range a {
				if a[i] == "CSR" {
					a[i] = filepath.Join(dir, "csr")
				}
			}
			_, errOut, err := execute(t, append(a, nodeID...)...)
			if err != nil && args[1] != "kubeconfig" { // no CA to sign the kubeconfigs with
				t.Fatal(err)
			}
			if want := "no admin.conf or super-admin.conf in " + kc; !strings.Contains(errOut, want) {
				t.Errorf("stderr does not say %q:\n%s", want, errOut)
			}
		})
	}
}
