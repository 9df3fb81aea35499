package renewal

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestKeepValidityOfAJoinedNodesKubeconfig: kubeadm's kubeconfig phase
// starts a client certificate at its CA's NotBefore and ends it a
// validity period after it was made. On a node that joined 165 days after
// the CA was made, admin.conf's certificate spans 165 + 365 days, and with
// the validity kept from each certificate (settings derived from the
// certificates) its renewal was given 530 days, and so was every later
// one. Such a certificate's span says nothing of the cluster's period: it
// takes Validity (apiserver.crt's, which starts when it was made).
func TestKeepValidityOfAJoinedNodesKubeconfig(t *testing.T) {
	n := newNode(t, nil)
	const year = 365 * 24 * time.Hour
	joined := made.Add(165 * 24 * time.Hour)
	ca, caKey := n.CA(t, "ca")
	key, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	old := n.cert(t, pki.AdminKubeconfig)
	p := pki.ProfileFromCert("admin", "admin", "ca", old)
	cert, err := pki.Sign(rand.Reader, p, key.Public(), ca, caKey, pki.Validity{NotBefore: ca.NotBefore, NotAfter: joined.Add(year)})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := kubeconfig.Load(n.path(pki.AdminKubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := pki.MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	data, err := kubeconfig.SetClientCert(cfg, n.path(pki.AdminKubeconfig), nil, pki.EncodeCert(cert), keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	write(t, n.path(pki.AdminKubeconfig), data)

	now := joined.Add(300 * 24 * time.Hour)
	o := n.options(now)
	o.KeepValidity, o.Validity = true, year
	if _, err := Renew(context.Background(), n.targets(t, pki.AdminKubeconfig), o); err != nil {
		t.Fatal(err)
	}
	got := n.cert(t, pki.AdminKubeconfig)
	if want := now.Add(year); !got.NotAfter.Equal(want) {
		t.Errorf("admin.conf renewed until %v (%v), want %v (a year): the span from its CA's start was kept as its period",
			got.NotAfter, got.NotAfter.Sub(now).Round(time.Hour), want)
	}
}
