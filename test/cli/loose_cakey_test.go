package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLooseCAKeyWarned: a command that reads a CA key to sign with it
// (init-phase certs NAME and init-phase kubeconfig NAME signing anew, renew
// from the on-disk CAs) warns when that key file is group or world
// readable, once per file per run, naming the file and the chmod to run,
// as init-phase warns of a key it keeps and check-expiration reports
// key-permissions. They signed with a ca.key at 0644 silently. A CA key at
// 0600 gets no warning.
func TestLooseCAKeyWarned(t *testing.T) {
	bin := certctlBin(t)
	id := []string{"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10", "--encryption-algorithm", "ECDSA-P256"}
	for _, tc := range []struct {
		name string
		// remove lists the files (under the node's folder) to remove
		// first, so that the command signs anew.
		remove []string
		// key is the CA key made loose, under the cert folder.
		key  string
		args func(n node) []string
	}{
		{"init-phase certs apiserver", []string{"pki/apiserver.crt", "pki/apiserver.key"}, "ca.key", func(n node) []string {
			return append([]string{"init-phase", "certs", "apiserver", "--cert-dir", n.certDir}, id...)
		}},
		{"init-phase certs all, two leaves of one CA", []string{"pki/etcd/server.crt", "pki/etcd/server.key", "pki/etcd/peer.crt", "pki/etcd/peer.key"}, "etcd/ca.key", func(n node) []string {
			return append([]string{"init-phase", "certs", "all", "--cert-dir", n.certDir}, id...)
		}},
		{"init-phase kubeconfig admin.conf", []string{"admin.conf"}, "ca.key", func(n node) []string {
			return append(append([]string{"init-phase", "kubeconfig", "admin"}, n.flags()...), id...)
		}},
		{"renew all", nil, "ca.key", func(n node) []string {
			return append([]string{"renew", "all"}, n.flags()...)
		}},
		{"renew front-proxy-client", nil, "front-proxy-ca.key", func(n node) []string {
			return append([]string{"renew", "front-proxy-client"}, n.flags()...)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := makeNode(t, bin, "ECDSA-P256")
			key := filepath.Join(n.certDir, tc.key)
			for _, mode := range []os.FileMode{0o644, 0o600} {
				for _, f := range tc.remove {
					if err := os.Remove(filepath.Join(n.dir, f)); err != nil {
						t.Fatal(err)
					}
				}
				if err := os.Chmod(key, mode); err != nil {
					t.Fatal(err)
				}
				out := run(t, bin, tc.args(n)...)
				warning := key + " holds a private key but is mode"
				got := strings.Count(out, warning)
				switch {
				case mode == 0o600 && got > 0:
					t.Errorf("a warning for %s at 0600:\n%s", key, out)
				case mode == 0o644 && (got != 1 || !strings.Contains(out, warning+" 0644") || !strings.Contains(out, "chmod 600 "+key)):
					t.Errorf("%d warnings %q with the chmod to run, want 1:\n%s", got, warning+" 0644", out)
				}
			}
		})
	}
}
