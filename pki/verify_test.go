package pki

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
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
