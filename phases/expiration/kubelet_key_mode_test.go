package expiration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestKubeletKeyFileMode: after the kubelet's TLS bootstrap, kubelet.conf
// names its client key by path (/var/lib/kubelet/pki/kubelet-client-current.pem).
// That file is a private key file like the others (docs/renew.md,
// key-permissions), but its mode was not checked: a 0644 key showed no
// problem.
func TestKubeletKeyFileMode(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	pemPath := bootstrappedKubelet(t, n, 0o644)
	row := kubeletRow(t, check(t, n, nil))
	if len(row.Problems) != 1 || row.Problems[0].Type != KeyPermissions || !strings.Contains(row.Problems[0].Message, "chmod 600 "+pemPath) {
		t.Errorf("kubelet key %s mode 0644: problems %+v, want key-permissions naming it", pemPath, row.Problems)
	}
	if err := os.Chmod(pemPath, 0o600); err != nil {
		t.Fatal(err)
	}
	if row := kubeletRow(t, check(t, n, nil)); len(row.Problems) != 0 {
		t.Errorf("kubelet key 0600: problems %+v", row.Problems)
	}
}

// bootstrappedKubelet makes n's kubelet.conf name its client certificate
// and key by path, in kubelet/pki/kubelet-client-current.pem (mode), as
// the kubelet's TLS bootstrap leaves it, and returns that file.
func bootstrappedKubelet(t *testing.T, n *pkitest.Node, mode os.FileMode) string {
	t.Helper()
	cfg, err := kubeconfig.Load(n.Path("kubelet.conf"))
	if err != nil {
		t.Fatal(err)
	}
	var pem []byte
	for _, u := range cfg.AuthInfos {
		pem = append(append(pem, u.ClientCertificateData...), u.ClientKeyData...)
		u.ClientCertificateData, u.ClientKeyData = nil, nil
		u.ClientCertificate, u.ClientKey = "kubelet/pki/kubelet-client-current.pem", "kubelet/pki/kubelet-client-current.pem"
	}
	if err := kubeconfig.Write(n.Path("kubelet.conf"), cfg); err != nil {
		t.Fatal(err)
	}
	pemPath := n.Path("kubelet/pki/kubelet-client-current.pem")
	if err := os.MkdirAll(filepath.Dir(pemPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pemPath, pem, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(pemPath, mode); err != nil { // whatever the umask
		t.Fatal(err)
	}
	return pemPath
}
