package pki

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"
)

// TestVerifyIssuedChainUsages: VerifyIssued, which every path that
// installs an issued certificate applies (certs import, renew --use-api),
// refuses a client certificate issued under a CA limited to server auth:
// Go's TLS and OpenSSL reject it although it names client auth itself.
func TestVerifyIssuedChainUsages(t *testing.T) {
	rootKey, _ := GenerateKey(rand.Reader, ECDSAP256)
	root, err := NewSelfSignedCA(rand.Reader, Profile{Name: "ca", CommonName: "kubernetes", IsCA: true}, rootKey, NewValidity(fixedNow, time.Hour, 24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := Profile{Name: "front-proxy-client", CommonName: "front-proxy-client", ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	for _, tt := range []struct {
		name   string
		eku    []x509.ExtKeyUsage
		refuse bool
	}{
		{"issuing CA without extended key usages", nil, false},
		{"issuing CA allowing client auth", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth}, false},
		{"issuing CA limited to server auth", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			interKey, _ := GenerateKey(rand.Reader, ECDSAP256)
			der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "issuing CA"},
				NotBefore: fixedNow.Add(-time.Hour), NotAfter: fixedNow.Add(time.Hour), KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
				BasicConstraintsValid: true, IsCA: true, ExtKeyUsage: tt.eku}, root, interKey.Public(), rootKey)
			if err != nil {
				t.Fatal(err)
			}
			inter, _ := x509.ParseCertificate(der)
			key, _ := GenerateKey(rand.Reader, ECDSAP256)
			cert, err := Sign(rand.Reader, want, key.Public(), inter, interKey, NewValidity(fixedNow, time.Minute, time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			err = VerifyIssued(cert, []*x509.Certificate{inter}, key.Public(), root, want, fixedNow)
			if tt.refuse != (err != nil) || err != nil && !strings.Contains(err.Error(), `the CA "issuing CA" allows only the extended key usages server auth`) {
				t.Errorf("VerifyIssued: %v, want refused %v", err, tt.refuse)
			}
		})
	}
}
