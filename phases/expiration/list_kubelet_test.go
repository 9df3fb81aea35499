package expiration

import (
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestCertsListKubeletRotated: after the kubelet's TLS bootstrap,
// kubelet.conf names its client certificate by path
// (/var/lib/kubelet/pki/kubelet-client-current.pem), as on every kubeadm
// node. certs list read only embedded certificates and listed that
// kubelet.conf as UNREADABLE, with no problem, while check-expiration read it.
func TestCertsListKubeletRotated(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	pemPath := bootstrappedKubelet(t, n, 0o600)
	list, err := listInventory(n.CertDir(), n.Dir, pki.Kubeadm().Certificates(pki.Node{}), pki.Kubeadm().Kubeconfigs(pki.Node{}), nil, pkitest.Made)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range list.Items {
		if e.Name != pki.KubeletKubeconfig {
			continue
		}
		if e.Status != "ok" || e.Expires == nil || e.Key == "" || e.Subject == "" || e.File != pemPath || len(e.Problems) != 0 {
			t.Errorf("kubelet.conf pointing at %s: %+v, want status ok with its subject, key, expiry and file", pemPath, e)
		}
		return
	}
	t.Fatalf("no kubelet.conf in %+v", list.Items)
}
