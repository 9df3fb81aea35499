package carotate

import (
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestHeldKubeletRelativeFile: kubelet.conf that names the kubelet's
// rotated file by a relative path (as the kubelet reads it, beside
// kubelet.conf) is read there, whatever certctl's working folder: the
// rotation must see which CA signs it.
func TestHeldKubeletRelativeFile(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	n.BootstrappedKubelet(t, 0o600)
	t.Chdir(t.TempDir())
	hs, err := heldOf(k(t, "ca"), false, n.CertDir(), n.Dir)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := n.CA(t, "ca")
	for _, h := range hs {
		if filepath.Base(h.file) == pki.KubeletKubeconfig && (h.cert == nil || !h.signedBy(ca, pkitest.Made)) {
			t.Errorf("kubelet.conf's rotated client certificate (relative path) not read: %+v", h)
		}
	}
}
