package pki

import (
	"crypto/dsa" //nolint:staticcheck // a DSA key, as openssl makes one, must be named
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"strings"
	"testing"
)

func TestDescribeKey(t *testing.T) {
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ed, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var dk dsa.PrivateKey
	if err := dsa.GenerateParameters(&dk.Parameters, rand.Reader, dsa.L1024N160); err != nil {
		t.Fatal(err)
	}
	if err := dsa.GenerateKey(&dk, rand.Reader); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		pub     any
		want    string
		wantAlg KeyAlgorithm // AlgorithmOf: "" for a key certctl does not make
	}{
		{"RSA-1024, not certctl's", rsa1024.Public(), "RSA-1024", ""},
		{"P-224, not certctl's", p224.Public(), "ECDSA-P224", ""},
		{"P-256, certctl's name", p256.Public(), string(ECDSAP256), ECDSAP256},
		{"Ed25519", ed, "Ed25519", ""},
		{"DSA, as openssl makes it, named as the others", &dk.PublicKey, "DSA-1024", ""},
		{"nil", nil, "<nil>", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := DescribeKey(tt.pub); got != tt.want {
				t.Errorf("DescribeKey = %q, want %q", got, tt.want)
			}
			if got := AlgorithmOf(tt.pub); got != tt.wantAlg {
				t.Errorf("AlgorithmOf = %q, want %q", got, tt.wantAlg)
			}
		})
	}
}

// TestParsePrivateKeyNamesUnsupported: an Ed25519 key, as `openssl genpkey
// -algorithm ed25519` writes it, is refused naming it as check-expiration
// names its certificate's key, not by Go's type ed25519.PrivateKey.
func TestParsePrivateKeyNamesUnsupported(t *testing.T) {
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ed)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParsePrivateKey(encodePEM("PRIVATE KEY", der))
	if err == nil || !strings.Contains(err.Error(), "unsupported private key type Ed25519: use RSA or ECDSA") {
		t.Errorf("ParsePrivateKey(Ed25519) = %v, want it to name Ed25519", err)
	}
}
