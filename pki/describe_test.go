package pki

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
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
