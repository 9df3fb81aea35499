package expiration

import (
	"crypto/rand"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestRefusedCertIsNotAReissuedCA: a certificate its CA signed with SHA-1
// (an old openssl or cfssl default), which Go's TLS stack refuses, was
// reported as one of a CA certificate re-issued with the same key, with
// the command to re-issue ca.crt, which changes nothing. It is reported
// for what it is, with the renewal that fixes it.
func TestRefusedCertIsNotAReissuedCA(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	resignSHA1(t, n, "apiserver")
	ps := check(t, n, nil).Problems()
	if len(ps) != 1 {
		t.Fatalf("problems = %q, want one", ps)
	}
	if !strings.Contains(ps[0], "signed with ECDSA-SHA1, which Go refuses") || !strings.Contains(ps[0], "renew it (`certctl renew apiserver") || strings.Contains(ps[0], "re-issue") {
		t.Errorf("problem = %q, want the SHA-1 signature and `certctl renew apiserver`, not a CA to re-issue", ps[0])
	}
}

// resignSHA1 signs the certificate base of n again, as it is, with its CA
// and SHA-1.
func resignSHA1(t *testing.T, n *pkitest.Node, base string) {
	t.Helper()
	s := pki.Store{Dir: n.CertDir()}
	cert, _, err := s.ReadCert(base)
	if err != nil {
		t.Fatal(err)
	}
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
	if err := s.WriteCert(base, sha1); err != nil {
		t.Fatal(err)
	}
}
