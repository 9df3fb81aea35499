package expiration

import (
	"os"
	"slices"
	"strings"
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

// TestCertsListKubeletRotatedUnreadable: after the TLS bootstrap, with the
// file kubelet.conf points to gone (a failed rotation) or damaged, certs
// list's kubelet.conf row named kubelet.conf and said it "has no embedded
// client certificate and key", while its problem, and check-expiration,
// named the kubelet's file and what to do. The row now names that file and
// says the same as its problem.
func TestCertsListKubeletRotatedUnreadable(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, pemPath string)
		want   string
	}{
		{name: "gone", damage: func(t *testing.T, pemPath string) { must0(t, os.Remove(pemPath)) }, want: "no such file"},
		{name: "damaged", damage: func(t *testing.T, pemPath string) { must0(t, os.WriteFile(pemPath, []byte("garbage"), 0o600)) }, want: "parse the kubelet's client certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			pemPath := bootstrappedKubelet(t, n, 0o600)
			tc.damage(t, pemPath)
			list, err := listInventory(n.CertDir(), n.Dir, pki.Kubeadm().Certificates(pki.Node{}), pki.Kubeadm().Kubeconfigs(pki.Node{}), nil, pkitest.Made)
			if err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(list.Items, func(e ListEntry) bool { return e.Name == pki.KubeletKubeconfig })
			if i < 0 {
				t.Fatalf("no kubelet.conf in %+v", list.Items)
			}
			e := list.Items[i]
			if e.Status != "unreadable" || e.File != pemPath || !strings.Contains(e.Error, tc.want) || strings.Contains(e.Error, "embedded") ||
				len(e.Problems) != 1 || e.Problems[0].Type != Unreadable {
				t.Errorf("kubelet.conf pointing at a %s %s: %+v, want status unreadable, that file, an error saying %q and its problem", tc.name, pemPath, e, tc.want)
			}
		})
	}
}

func must0(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
