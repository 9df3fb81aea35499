package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestKubeconfigCSRBootstrappedKubelet: `init-phase kubeconfig all
// --use-csr` on a node whose kubelet.conf names the certificate and key
// the kubelet rotates since its TLS bootstrap wrote a kubelet.conf CSR,
// which `certs import` then refused ("installs embedded client
// certificates only", no next step), exiting 2 after installing the
// others. As kubeadm v1.37, init-phase now keeps that kubelet.conf and
// says so; the import of what the CA signed installs the others and exits
// 0, with kubelet.conf as it was.
func TestKubeconfigCSRBootstrappedKubelet(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	sign := docSignScript(t, n)
	rotated := (&pkitest.Node{Dir: n.dir}).BootstrappedKubelet(t, 0o600)
	kubelet := filepath.Join(n.dir, "kubelet.conf")
	was := string(read(t, kubelet))

	csrDir := filepath.Join(t.TempDir(), "csr")
	out := run(t, bin, append([]string{"init-phase", "kubeconfig", "all", "--use-csr", "--csr-dir", csrDir,
		"--node-name", "cp-1", "--apiserver-advertise-address", "198.51.100.10"}, n.flags()...)...)
	if want := `[kubeconfig] Using existing kubeconfig file: "` + kubelet + `": it names the client certificate and key the kubelet rotates since its TLS bootstrap (` + rotated + `); no CSR is written for it`; !strings.Contains(out, want) {
		t.Errorf("init-phase does not say %q:\n%s", want, out)
	}
	if _, err := os.Stat(filepath.Join(csrDir, "kubelet.conf.csr")); err == nil {
		t.Errorf("a kubelet.conf CSR was written for a bootstrapped kubelet.conf:\n%s", out)
	}
	sign(csrDir)
	code, stdout, stderr := runAll(t, nil, bin, append([]string{"certs", "import", "--csr-dir", csrDir}, n.flags()...)...)
	if code != 0 || strings.Contains(stdout, "REFUSED") {
		t.Errorf("certs import: exit %d, want 0 with nothing refused:\n%s%s", code, stdout, stderr)
	}
	for _, name := range []string{"admin.conf", "super-admin.conf", "controller-manager.conf", "scheduler.conf"} {
		if !strings.Contains(stdout, "[import] "+name+" installed") {
			t.Errorf("certs import did not install %s:\n%s", name, stdout)
		}
	}
	if got := string(read(t, kubelet)); got != was {
		t.Errorf("kubelet.conf changed:\n%s", got)
	}
}
