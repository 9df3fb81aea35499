package renewal

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"testing"
	"time"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// TestKeepValidityOfACertificateCutToAnotherCA: with the validity kept
// from each certificate (settings derived from the certificates), one that
// was cut to its CA's expiry says nothing of the cluster's validity. When
// another CA of the bundle signs its successor (a CA rotation re-issues
// with the new CA; a renewal between stages signs with the first CA of
// ca.crt), the cut was looked for against the signing CA only: the old
// CA's leaves, cut short because that CA expires soon (the reason to
// rotate it), kept their short period under the new CA.
func TestKeepValidityOfACertificateCutToAnotherCA(t *testing.T) {
	n := newNode(t, func(c *config.Cluster) { c.CACertificateValidity = 400 * 24 * time.Hour })
	// 100 days in, renewed for a year, cut to the CA's end: 300 days.
	at := made.Add(100 * 24 * time.Hour)
	if _, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(at)); err != nil {
		t.Fatal(err)
	}
	oldCA, _ := n.CA(t, "ca")
	if cut := n.cert(t, "apiserver"); !cut.NotAfter.Equal(oldCA.NotAfter) {
		t.Fatalf("apiserver ends %v, want cut to its CA's end %v", cut.NotAfter, oldCA.NotAfter)
	}
	key, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	now := made.Add(200 * 24 * time.Hour)
	p := pki.Profile{Name: "ca", CommonName: "kubernetes", IsCA: true}
	newCA, err := pki.NewSelfSignedCA(rand.Reader, p, key, pki.NewValidity(now, time.Hour, 10*365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	o := n.options(now)
	o.KeepValidity, o.Validity = true, 365*24*time.Hour
	o.CAs = map[string]*pki.LoadedCA{"ca": {Cert: newCA, Key: key, Bundle: []*x509.Certificate{newCA, oldCA}}}
	if _, err := Renew(context.Background(), n.targets(t, "apiserver"), o); err != nil {
		t.Fatal(err)
	}
	got := n.cert(t, "apiserver")
	if want := now.Add(o.Validity); !got.NotAfter.Equal(want) {
		t.Errorf("apiserver re-issued by the new CA until %v (%v), want %v (%v): the period of one cut to the old CA was kept",
			got.NotAfter, got.NotAfter.Sub(now), want, o.Validity)
	}
}
