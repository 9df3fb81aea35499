package pki

import (
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"slices"
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
		{"byte order mark", append([]byte("\ufeff"), EncodeCert(ca)...), "it holds a UTF-8 byte order mark, as Windows editors write one, which hides the certificate after it from Go's PEM reader, the components' too: remove it with `sed -i 's/\\xEF\\xBB\\xBF//g' 'my ca.crt'`"},
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

// TestLoadCAByteOrderMark: a CA certificate file saved by a Windows editor,
// with a UTF-8 byte order mark, alone or the first of a bundle (a rotation's
// ca.crt, a root and its issuing CA). Go's PEM reader, the components' too,
// skips the certificate after the mark: LoadCA refused the first with
// "restore it from a backup" and took the second for the bundle without
// its first certificate. Both are refused with the command that removes
// the mark, as an error that says what to do.
func TestLoadCAByteOrderMark(t *testing.T) {
	var certs [][]byte
	for _, cn := range []string{"ca", "next ca"} {
		key, err := GenerateKey(rand.Reader, ECDSAP256)
		if err != nil {
			t.Fatal(err)
		}
		ca, err := NewSelfSignedCA(rand.Reader, Profile{CommonName: cn, IsCA: true}, key, NewValidity(fixedNow, 0, time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, EncodeCert(ca))
	}
	bom := []byte("\ufeff")
	for name, data := range map[string][]byte{
		"alone":           append(slices.Clone(bom), certs[0]...),
		"before a bundle": append(append(slices.Clone(bom), certs[0]...), certs[1]...),
	} {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "ca.crt")
			if err := os.WriteFile(file, data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := LoadCA(file, "", time.Time{})
			if err == nil || !SaysWhatToDo(err) || !strings.Contains(err.Error(), "byte order mark") || !strings.Contains(err.Error(), "sed -i") {
				t.Errorf("LoadCA: %v, want the byte order mark named, with the sed that removes it", err)
			}
		})
	}
}
