package expiration

import (
	"os"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
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

// bootstrappedKubelet is n.BootstrappedKubelet (pkitest).
func bootstrappedKubelet(t *testing.T, n *pkitest.Node, mode os.FileMode) string {
	t.Helper()
	return n.BootstrappedKubelet(t, mode)
}
