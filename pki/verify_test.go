package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"
)

// TestVerifySignedBy checks the chain whatever the certificates' windows:
// an expired leaf still belongs to its CA, also to the CA certificate made
// again, later, for the same key.
func TestVerifySignedBy(t *testing.T) {
	list := Kubeadm().Certificates(testNode())
	caProfile, _ := Find(list, "ca")
	fpProfile, _ := Find(list, "front-proxy-ca")
	leafProfile, _ := Find(list, "apiserver-kubelet-client")
	day := 24 * time.Hour
	newKey := func() crypto.Signer {
		k, err := GenerateKey(rand.Reader, ECDSAP256)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	newCA := func(p Profile, key crypto.Signer, from time.Time) *x509.Certificate {
		ca, err := NewSelfSignedCA(rand.Reader, p, key, NewValidity(from, 0, 3650*day))
		if err != nil {
			t.Fatal(err)
		}
		return ca
	}
	caKey, otherKey := newKey(), newKey()
	ca := newCA(caProfile, caKey, fixedNow.Add(-400*day))
	leaf, err := Sign(rand.Reader, leafProfile, newKey().Public(), ca, caKey, NewValidity(fixedNow.Add(-400*day), 0, 365*day))
	if err != nil {
		t.Fatal(err)
	}
	// A CA that expired yesterday, and a leaf it signed that is valid now.
	oldCA, err := NewSelfSignedCA(rand.Reader, caProfile, caKey, Validity{fixedNow.Add(-400 * day), fixedNow.Add(-day)})
	if err != nil {
		t.Fatal(err)
	}
	validLeaf, err := Sign(rand.Reader, leafProfile, newKey().Public(), oldCA, caKey, Validity{fixedNow.Add(-10 * day), fixedNow.Add(300 * day)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		leaf *x509.Certificate
		ca   *x509.Certificate
		ok   bool
	}{
		{"expired leaf, its CA", leaf, ca, true},
		{"expired leaf, its CA made again for the same key after the leaf expired", leaf, newCA(caProfile, caKey, fixedNow), true},
		{"same key, another subject", leaf, newCA(fpProfile, caKey, fixedNow), false},
		{"same subject, another key", leaf, newCA(caProfile, otherKey, fixedNow), false},
		{"same subject, another key, overlapping windows", leaf, newCA(caProfile, otherKey, fixedNow.Add(-400*day)), false},
		// What an external CA hands back must chain now (VerifyIssued).
		{"valid leaf, its CA expired", validLeaf, oldCA, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignedBy(tt.leaf, nil, tt.ca, fixedNow)
			if (err == nil) != tt.ok {
				t.Errorf("VerifySignedBy = %v, want ok=%v", err, tt.ok)
			}
		})
	}
	// Whether a CA issued a certificate does not depend on the time
	// (IssuedBy): the same answers, but the valid leaf of the expired CA is
	// its, and still not an expired CA's of another key.
	otherOld, err := NewSelfSignedCA(rand.Reader, caProfile, otherKey, Validity{fixedNow.Add(-400 * day), fixedNow.Add(-day)})
	if err != nil {
		t.Fatal(err)
	}
	last := len(tests) - 1
	tests[last].ok = true
	tests = append(tests, tests[last])
	tests[last+1].name, tests[last+1].ca, tests[last+1].ok = "valid leaf, an expired CA of another key", otherOld, false
	for _, tt := range tests {
		if err := IssuedBy(tt.leaf, nil, tt.ca, fixedNow); (err == nil) != tt.ok {
			t.Errorf("IssuedBy, %s = %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
}

// TestVerifySignedByRefusedCert: a certificate its CA issued that Go's
// TLS stack refuses for a reason of its own (a SHA-1 signature, as old
// openssl and cfssl made them; an unknown critical extension; names
// outside the CA's name constraints) is not taken for one of a CA
// certificate re-issued with the same key, whose fix (re-issue the CA
// certificate) changes nothing.
func TestVerifySignedByRefusedCert(t *testing.T) {
	caKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := GenerateKey(rand.Reader, ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := func(permitted []string) *x509.Certificate {
		return &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kubernetes"},
			NotBefore: fixedNow.Add(-time.Hour), NotAfter: fixedNow.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
			KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, PermittedDNSDomains: permitted}
	}
	mk := func(tmpl, parent *x509.Certificate, pub crypto.PublicKey) *x509.Certificate {
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, caKey)
		if err != nil {
			t.Fatal(err)
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ca := mk(caTmpl(nil), caTmpl(nil), caKey.Public())
	constrained := mk(caTmpl([]string{"example.com"}), caTmpl([]string{"example.com"}), caKey.Public())
	leaf := func(change func(*x509.Certificate)) *x509.Certificate {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "kube-apiserver"}, DNSNames: []string{"kubernetes"},
			NotBefore: fixedNow.Add(-time.Hour), NotAfter: fixedNow.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
		change(tmpl)
		return mk(tmpl, ca, leafKey.Public())
	}
	tests := []struct {
		name      string
		leaf, ca  *x509.Certificate
		why       string
		renewable bool
	}{
		{"SHA-1 signature", leaf(func(c *x509.Certificate) { c.SignatureAlgorithm = x509.SHA1WithRSA }), ca, "signed with SHA1-RSA, which Go refuses", true},
		{"unknown critical extension", leaf(func(c *x509.Certificate) {
			c.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4}, Critical: true, Value: []byte{5, 0}}}
		}), ca, "critical extension that Go does not handle", true},
		{"outside the CA's name constraints", leaf(func(*x509.Certificate) {}), constrained, "outside the CA's name constraints", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifySignedBy(tt.leaf, nil, tt.ca, fixedNow)
			var refused *RefusedCertError
			if !errors.As(err, &refused) {
				t.Fatalf("VerifySignedBy = %v, want a RefusedCertError", err)
			}
			if !strings.Contains(err.Error(), tt.why) || refused.Renewable != tt.renewable {
				t.Errorf("VerifySignedBy = %v (renewable %v), want it to say %q (renewable %v)", err, refused.Renewable, tt.why, tt.renewable)
			}
			if errors.As(err, new(*ReissuedCAError)) {
				t.Errorf("VerifySignedBy = %v, taken for a re-issued CA", err)
			}
			if IssuedBy(tt.leaf, nil, tt.ca, fixedNow) == nil {
				t.Error("IssuedBy accepts a certificate that TLS clients reject")
			}
		})
	}
}
