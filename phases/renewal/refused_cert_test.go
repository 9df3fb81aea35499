package renewal

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"testing"

	"github.com/certctl/certctl/pki"
)

// TestRenewRefusedCert: a certificate its CA signed with SHA-1 (an old
// openssl or cfssl default), which Go's TLS stack refuses, is the CA's
// own: renew re-signs it, with SHA-256, as kubeadm's `certs renew` does,
// where it refused it as "not signed by the CA" and told to restore a
// backup, which holds the same certificate.
func TestRenewRefusedCert(t *testing.T) {
	n := newNode(t, nil)
	s := pki.Store{Dir: n.certDir()}
	cert := n.cert(t, "apiserver")
	caCert, caKey := n.CA(t, "ca")
	tmpl := *cert
	tmpl.SignatureAlgorithm = x509.ECDSAWithSHA1
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, caCert, cert.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	sha1, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteCert("apiserver", sha1); err != nil {
		t.Fatal(err)
	}
	if _, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(renewAt)); err != nil {
		t.Fatalf("renew apiserver, signed by its CA with SHA-1: %v", err)
	}
	if err := pki.VerifySignedBy(n.cert(t, "apiserver"), nil, caCert, renewAt); err != nil {
		t.Errorf("the renewed apiserver.crt does not verify: %v", err)
	}
}
