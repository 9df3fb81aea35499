package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestBadKubeconfigStopsFirst: a --kubeconfig that is missing or not a
// regular file stops approve, sign, signer run, ca rotate, ca status and renew --use-api with one line
// naming it and what to do, before the settings are read. The read of the
// kubeadm-config ConfigMap met it first and printed a "[config] ... not
// read: ..." line, then the command failed on the same file. So do
// check-expiration --cluster, which reported it as a node it could not
// list, and certs upload and download, which said it after the settings
// in New's words ("load kubeconfig PATH: stat PATH: ..."). approve and
// signer run with --config, and sign, checked it only when they
// connected, after reading --config, the CA and the signing
// configuration: a missing one of those was told first.
func TestBadKubeconfigStopsFirst(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	missing := filepath.Join(t.TempDir(), "missing.conf")
	folder := t.TempDir()
	key := strings.Repeat("ab", 32)
	// These read no ConfigMap without --config: one that cannot be read
	// shows --kubeconfig is checked before the settings.
	noConfig := filepath.Join(t.TempDir(), "none.yaml")
	for _, cmdline := range [][]string{
		{"check-expiration", "--cluster", "--kubeconfig-dir", n.Dir, "--config", noConfig},
		{"certs", "download", "--certificate-key", key, "--kubeconfig-dir", n.Dir, "--config", noConfig},
		{"certs", "upload", "--certificate-key", key, "--kubeconfig-dir", n.Dir, "--config", noConfig},
		{"approve", "csr-1"},
		{"sign", "csr-1", "--ca-cert", n.Path("pki/ca.crt"), "--ca-key", n.Path("pki/ca.key")},
		{"signer", "run", "--listen-address", "127.0.0.1:0"},
		{"ca", "rotate", "ca", "--kubeconfig-dir", n.Dir, "--dry-run"},
		{"ca", "status", "--kubeconfig-dir", n.Dir},
		{"renew", "all", "--use-api", "--kubeconfig-dir", n.Dir, "--config", noConfig},
		// Nor is --config, or sign's other files, read first.
		{"approve", "csr-1", "--config", noConfig},
		{"signer", "run", "--listen-address", "127.0.0.1:0", "--config", noConfig},
		{"sign", "csr-1", "--ca-cert", n.Path("pki/ca.crt"), "--ca-key", n.Path("pki/ca.key"), "--signing-config", noConfig},
		{"sign", "csr-1", "--ca-cert", noConfig, "--ca-key", n.Path("pki/ca.key")},
	} {
		for _, tc := range []struct{ path, want string }{
			{missing, missing + ": no such file or directory: pass --kubeconfig a"},
			{folder, "kubeconfig " + folder + " is not a regular file but a folder: pass --kubeconfig a kubeconfig file of the cluster"},
		} {
			t.Run(strings.Join(cmdline, " ")+" "+filepath.Base(tc.path), func(t *testing.T) {
				_, stderr, err := execute(t, append(cmdline, "--cert-dir", n.CertDir(), "--kubeconfig", tc.path)...)
				if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error %v, want one line with %q", err, tc.want)
				}
				if stderr != "" {
					t.Errorf("said before the error:\n%s", stderr)
				}
			})
		}
	}
	if os.Geteuid() == 0 {
		return // root reads any file
	}
	unreadable := filepath.Join(t.TempDir(), "admin.conf")
	if err := os.WriteFile(unreadable, nil, 0); err != nil {
		t.Fatal(err)
	}
	_, _, err := execute(t, "approve", "csr-1", "--cert-dir", n.CertDir(), "--kubeconfig", unreadable)
	if want := "read --kubeconfig " + unreadable + ": permission denied: run certctl as root to read it, or pass --kubeconfig"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want one starting %q", err, want)
	}
}
