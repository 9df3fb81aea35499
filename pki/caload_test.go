package pki

import (
	"crypto/rand"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLoadCA(t *testing.T) {
	dir := t.TempDir()
	key, err := GenerateKey(rand.Reader, ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	other, err := GenerateKey(rand.Reader, ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := NewSelfSignedCA(rand.Reader, Profile{CommonName: "ca", IsCA: true}, key, NewValidity(fixedNow, 0, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	file := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	keyPEM, _ := MarshalPrivateKey(key)
	otherPEM, _ := MarshalPrivateKey(other)
	leaf := selfSigned(t, &x509.Certificate{})
	crt, k, wrongKey := file("ca.crt", EncodeCert(ca)), file("ca.key", keyPEM), file("other.key", otherPEM)
	tests := []struct {
		name              string
		certFile, keyFile string
		now               time.Time
		want              CAFault
	}{
		{"good", crt, k, fixedNow, 0},
		{"good, without key", crt, "", time.Time{}, 0},
		{"no certificate", filepath.Join(dir, "none.crt"), k, fixedNow, CACertMissing},
		{"not PEM", file("bad.crt", []byte("x")), "", fixedNow, CACertUnparsable},
		{"not a CA", file("leaf.crt", EncodeCert(leaf)), "", fixedNow, CANotCA},
		{"no key", crt, filepath.Join(dir, "none.key"), fixedNow, CAKeyMissing},
		{"bad key", crt, file("bad.key", []byte("x")), fixedNow, CAKeyUnparsable},
		{"another key", crt, wrongKey, fixedNow, CAKeyMismatch},
		{"expired", crt, k, fixedNow.Add(2 * time.Hour), CANotValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LoadCA(tt.certFile, tt.keyFile, tt.now)
			if f := FaultOf(err); f != tt.want {
				t.Fatalf("LoadCA: %v (fault %d), want fault %d", err, f, tt.want)
			}
			if tt.want == 0 && (got.Cert == nil || len(got.Bundle) != 1 || (tt.keyFile != "") != (got.Key != nil)) {
				t.Errorf("LoadCA = %+v", got)
			}
		})
	}
}

// TestLoadCALooseKey: LoadCA says when the CA key it read is a file group
// or others may read or write (LooseKey: one line naming the file and the
// chmod to run), so that every command that signs with it can warn.
func TestLoadCALooseKey(t *testing.T) {
	dir := t.TempDir()
	key, err := GenerateKey(rand.Reader, ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := NewSelfSignedCA(rand.Reader, Profile{CommonName: "ca", IsCA: true}, key, NewValidity(fixedNow, 0, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := MarshalPrivateKey(key)
	crt, k := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	if err := os.WriteFile(crt, EncodeCert(ca), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k, keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		mode    os.FileMode
		keyFile string
		want    string
	}{
		{"0600", 0o600, k, ""},
		{"0400", 0o400, k, ""},
		{"0644", 0o644, k, k + " holds a private key but is mode 0644: make it readable by its owner only: chmod 600 " + k},
		{"0640", 0o640, k, k + " holds a private key but is mode 0640: make it readable by its owner only: chmod 600 " + k},
		{"0604", 0o604, k, k + " holds a private key but is mode 0604: make it readable by its owner only: chmod 600 " + k},
		{"no key read", 0o644, "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.Chmod(k, tt.mode); err != nil {
				t.Fatal(err)
			}
			got, err := LoadCA(crt, tt.keyFile, fixedNow)
			if err != nil {
				t.Fatal(err)
			}
			if w := got.LooseKey(); w != tt.want {
				t.Errorf("LooseKey() = %q, want %q", w, tt.want)
			}
		})
	}
}
