package carotate

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestHeldKubeletRelativeFile: kubelet.conf that names the kubelet's
// rotated file by a relative path (as the kubelet reads it, beside
// kubelet.conf) is read there, whatever certctl's working folder: the
// rotation must see which CA signs it.
func TestHeldKubeletRelativeFile(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	p := n.Path("kubelet.conf")
	cfg, err := kubeconfig.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	var pem []byte
	for _, u := range cfg.AuthInfos {
		pem = append(append(pem, u.ClientCertificateData...), u.ClientKeyData...)
		u.ClientCertificateData, u.ClientKeyData = nil, nil
		u.ClientCertificate, u.ClientKey = "kubelet/pki/kubelet-client-current.pem", "kubelet/pki/kubelet-client-current.pem"
	}
	if err := kubeconfig.Write(p, cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(n.Path("kubelet/pki"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.Path("kubelet/pki/kubelet-client-current.pem"), pem, 0o600); err != nil {
		t.Fatal(err)
	}
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
