package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"
)

func TestVerifyIssued(t *testing.T) {
	list := Kubeadm().Certificates(testNode())
	caProfile, _ := Find(list, "ca")
	want, _ := Find(list, "apiserver")
	newCA := func() (*x509.Certificate, crypto.Signer) {
		k, _ := GenerateKey(rand.Reader, ECDSAP256)
		ca, err := NewSelfSignedCA(rand.Reader, caProfile, k, NewValidity(fixedNow, 5*time.Minute, 10*365*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return ca, k
	}
	ca, caKey := newCA()
	otherCA, otherKey := newCA()
	key, _ := GenerateKey(rand.Reader, ECDSAP256)
	otherLeafKey, _ := GenerateKey(rand.Reader, ECDSAP256)
	valid := NewValidity(fixedNow, 5*time.Minute, 365*24*time.Hour)
	sign := func(p Profile, pub crypto.PublicKey, ca *x509.Certificate, caKey crypto.Signer, v Validity) *x509.Certificate {
		cert, err := Sign(rand.Reader, p, pub, ca, caKey, v)
		if err != nil {
			t.Fatal(err)
		}
		return cert
	}
	tests := []struct {
		name string
		cert *x509.Certificate
		want []string // substrings of the error; none means accepted
	}{
		{"good", sign(want, key.Public(), ca, caKey, valid), nil},
		{"wrong key", sign(want, otherLeafKey.Public(), ca, caKey, valid), []string{"does not match the private key"}},
		{"wrong CA", sign(want, key.Public(), otherCA, otherKey, valid), []string{"not signed by the CA"}},
		{"missing SAN", func() *x509.Certificate {
			p := want
			p.DNSNames = p.DNSNames[1:]
			return sign(p, key.Public(), ca, caKey, valid)
		}(), []string{"lacks the SANs"}},
		{"missing usage", func() *x509.Certificate {
			p := want
			p.ExtKeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
			return sign(p, key.Public(), ca, caKey, valid)
		}(), []string{"lacks the extended key usages server auth"}},
		{"expired", sign(want, key.Public(), ca, caKey, Validity{fixedNow.Add(-48 * time.Hour), fixedNow.Add(-time.Hour)}), []string{"expired"}},
		{"not yet valid", sign(want, key.Public(), ca, caKey, Validity{fixedNow.Add(time.Hour), fixedNow.Add(48 * time.Hour)}), []string{"not valid before"}},
		{"other subject", func() *x509.Certificate {
			p := want
			p.CommonName, p.Organization = "someone", []string{"system:masters"}
			return sign(p, key.Public(), ca, caKey, valid)
		}(), []string{`CN is "someone"`, "O is"}},
		// An enterprise CA (a Vault role's organization, an AD CS template)
		// adds its O: on a certificate that serves only, O is no group and
		// kubeadm accepts it; on one that is also a client's, it is an RBAC
		// group.
		{"O added to a serving certificate", func() *x509.Certificate {
			p := want
			p.Organization = []string{"Corp"}
			return sign(p, key.Public(), ca, caKey, valid)
		}(), nil},
		{"O added to a serving and client certificate", func() *x509.Certificate {
			p := want
			p.Organization = []string{"Corp"}
			p.ExtKeyUsages = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
			return sign(p, key.Public(), ca, caKey, valid)
		}(), []string{`O is ["Corp"]`}},
		// An external CA on SHA-1 (an old openssl or AD CS default) did
		// sign it: "not signed by the CA" sent the operator after the
		// wrong CA.
		{"SHA-1 signature", func() *x509.Certificate {
			tmpl := *sign(want, key.Public(), ca, caKey, valid)
			tmpl.SignatureAlgorithm = x509.ECDSAWithSHA1
			der, err := x509.CreateCertificate(rand.Reader, &tmpl, ca, key.Public(), caKey)
			if err != nil {
				t.Fatal(err)
			}
			c, err := x509.ParseCertificate(der)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}(), []string{"it is signed with ECDSA-SHA1, which Go refuses", "have the CA sign it with SHA-256"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyIssued(tt.cert, nil, key.Public(), ca, want, fixedNow)
			if err != nil && strings.Contains(err.Error(), "not signed by") && tt.name != "wrong CA" {
				t.Errorf("error %q says not signed by the CA", err)
			}
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestVerifyIssuedRequiredKeyUsage(t *testing.T) {
	caKey, _ := GenerateKey(rand.Reader, ECDSAP256)
	ca, err := NewSelfSignedCA(rand.Reader, Profile{Name: "ca", CommonName: "kubernetes", IsCA: true}, caKey, NewValidity(fixedNow, 0, 24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	key, _ := GenerateKey(rand.Reader, ECDSAP256)
	want := Profile{Name: "front-proxy-client", CommonName: "front-proxy-client",
		ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	// Only digital signature, as a CA told "ECDSA key" might issue it.
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: want.CommonName},
		NotBefore: fixedNow.Add(-time.Hour), NotAfter: fixedNow.Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: want.ExtKeyUsages}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	if err := VerifyIssued(cert, nil, key.Public(), ca, want, fixedNow); err != nil {
		t.Errorf("without RequiredKeyUsage: refused: %v", err)
	}
	want.RequiredKeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
	err = VerifyIssued(cert, nil, key.Public(), ca, want, fixedNow)
	if err == nil || !strings.Contains(err.Error(), "it lacks the key usages key encipherment") {
		t.Errorf("with key encipherment required: %v", err)
	}
}
