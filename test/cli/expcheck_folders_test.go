package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestExpcheckWritableFolderAndForeignOwner: a certificate folder anyone
// may write, and a CA key another user owns, let that user replace the CA:
// check-expiration exits 3 (a problem was found, docs/exit-codes.md), names
// each with what to do, and --textfile has their series. It exited 0.
func TestExpcheckWritableFolderAndForeignOwner(t *testing.T) {
	bin := certctlBin(t)
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, n node)
		want  []string // in stderr's last line or the problems listed
	}{
		{
			name: "pki 0777",
			setup: func(t *testing.T, n node) {
				if err := os.Chmod(n.certDir, 0o777); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"cert-dir: folder " + "PKI is mode 0777", "chmod go-w PKI", `kind="folder"`, `type="folder-permissions"`},
		},
		{
			name: "etcd/ca.key owned by nobody",
			setup: func(t *testing.T, n node) {
				if err := os.Chown(filepath.Join(n.certDir, "etcd/ca.key"), 65534, 65534); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"etcd-ca: PKI/etcd/ca.key is owned by user 65534", "chown root PKI/etcd/ca.key", `type="key-owner"`},
		},
		{
			// After the TLS bootstrap kubelet.conf names its key file and
			// embeds no key; whoever may write it may still point the
			// kubelet at another API server and CA. Nothing was reported.
			name: "kubelet.conf naming its key file, mode 0666",
			setup: func(t *testing.T, n node) {
				(&pkitest.Node{Dir: n.dir}).BootstrappedKubelet(t, 0o600)
				if err := os.Chmod(filepath.Join(n.dir, "kubelet.conf"), 0o666); err != nil {
					t.Fatal(err)
				}
			},
			want: []string{"kubelet.conf: kubeconfig DIR/kubelet.conf is mode 0666", "chmod 600 DIR/kubelet.conf", `name="kubelet.conf"`, `type="cert-permissions"`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := makeNode(t, bin, "ECDSA-P256")
			if err := os.Chmod(n.dir, 0o755); err != nil {
				t.Fatal(err)
			}
			tc.setup(t, n)
			prom := filepath.Join(t.TempDir(), "certctl.prom")
			code, stdout, stderr := runAll(t, nil, bin, append([]string{"check-expiration", "--textfile", prom}, n.flags()...)...)
			if code != 3 {
				t.Errorf("exit %d, want 3 (a problem was found):\n%s%s", code, stdout, stderr)
			}
			metrics, err := os.ReadFile(prom)
			if err != nil {
				t.Fatal(err)
			}
			all := stdout + stderr + string(metrics)
			for _, w := range tc.want {
				if w = strings.NewReplacer("PKI", n.certDir, "DIR", n.dir).Replace(w); !strings.Contains(all, w) {
					t.Errorf("output lacks %q:\n%s", w, all)
				}
			}
			if !strings.Contains(tc.name, "kubelet.conf") {
				return
			}
			// certs list shows the same problem.
			code, stdout, stderr = runAll(t, nil, bin, append([]string{"certs", "list"}, n.flags()...)...)
			if !strings.Contains(stdout, "cert-permissions") || !strings.Contains(stdout, "chmod 600 "+filepath.Join(n.dir, "kubelet.conf")) {
				t.Errorf("certs list (exit %d) lacks kubelet.conf's cert-permissions:\n%s%s", code, stdout, stderr)
			}
		})
	}
}
