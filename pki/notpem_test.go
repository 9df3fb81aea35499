package pki

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestNotPEM: the forms CAs hand certificates out in that are not PEM are
// each named, with the command that converts them; PEM certificates, even
// broken ones, and anything else are not NotPEM's to name.
func TestNotPEM(t *testing.T) {
	key, err := GenerateKey(rand.Reader, ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := NewSelfSignedCA(rand.Reader, Profile{CommonName: "ca", IsCA: true}, key, NewValidity(fixedNow, 0, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string // "" when NotPEM names nothing
	}{
		{"PEM", EncodeCert(ca), ""},
		{"broken PEM", []byte("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"), ""},
		{"empty", nil, ""},
		{"text", []byte("hello\n"), ""},
		{"DER", ca.Raw, "it holds a DER certificate, not PEM: convert it with `openssl x509 -inform der -in 'my ca.crt' -out 'my ca.crt'`"},
		{"PKCS#7 PEM", []byte("-----BEGIN PKCS7-----\nMAA=\n-----END PKCS7-----\n"), "it holds a PKCS#7 bundle, not PEM certificates: convert it with `openssl pkcs7 -print_certs -in 'my ca.crt' -out 'my ca.crt'`"},
		{"CSR", []byte("-----BEGIN CERTIFICATE REQUEST-----\nMAA=\n-----END CERTIFICATE REQUEST-----\n"), "it holds a CSR, not the certificate signed for it"},
		{"cfssl JSON", []byte(`{"cert":"-----BEGIN..."}`), "it holds cfssl's JSON output, not the PEM certificate: write its cert field there with `jq -r .cert 'my ca.crt'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := NotPEM("my ca.crt", tc.data)
			if tc.want == "" && got != "" || !strings.HasPrefix(got, tc.want) {
				t.Errorf("NotPEM = %q, want %q", got, tc.want)
			}
		})
	}

	// LoadCA and ReadCerts refuse a DER CA with that sentence, as an error
	// that says what to do (SaysWhatToDo): callers add no advice of theirs.
	file := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(file, ca.Raw, 0o644); err != nil {
		t.Fatal(err)
	}
	want := "CA certificate " + file + ": it holds a DER certificate, not PEM: convert it with `openssl x509 -inform der -in " + file + " -out " + file + "`"
	if _, err := LoadCA(file, "", time.Time{}); err == nil || err.Error() != want || FaultOf(err) != CACertUnparsable || !errors.Is(err, ErrNotPEM) || !SaysWhatToDo(err) {
		t.Errorf("LoadCA: %v (fault %d), want %q, a CACertUnparsable that is ErrNotPEM", err, FaultOf(err), want)
	}
	if _, err := ReadCerts(file); err == nil || !errors.Is(err, ErrNotPEM) || !strings.HasSuffix(err.Error(), strings.TrimPrefix(want, "CA certificate "+file+": ")) {
		t.Errorf("ReadCerts: %v", err)
	}
	if _, err := LoadCA(filepath.Join(t.TempDir(), "none.crt"), "", time.Time{}); SaysWhatToDo(err) {
		t.Errorf("a missing CA says what to do by itself: %v", err)
	}
}
