package expiration

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"os"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestCertsListServiceAccountKeyMode: sa.key, the key that signs every
// service-account token, is a private key like the others, so a mode that
// lets group or others read it is the key-permissions problem
// docs/renew.md lists ("a private key file ... readable or writable by
// group or others"), with the chmod to run; certs list showed "-" for it.
func TestCertsListServiceAccountKeyMode(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	if err := os.Chmod(n.Path("pki/sa.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	certs, kcs := inventory(t, n)
	if err := listWide(&out, n.CertDir(), n.Dir, certs, kcs); err != nil {
		t.Fatal(err)
	}
	rows, below := columns(t, out.String())
	if r := rows["sa"]; r["PROBLEMS"] != "key-permissions" {
		t.Errorf("sa.key mode 0644: problems %q, want key-permissions:\n%s", r["PROBLEMS"], out.String())
	}
	if want := "chmod 600 " + n.Path("pki/sa.key"); !strings.Contains(below, want) {
		t.Errorf("the problems below the table do not say %q:\n%s", want, below)
	}
	// sa.pub is public: any mode is fine.
	if err := os.Chmod(n.Path("pki/sa.key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(n.Path("pki/sa.pub"), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := listWide(&out, n.CertDir(), n.Dir, certs, kcs); err != nil {
		t.Fatal(err)
	}
	if rows, _ := columns(t, out.String()); rows["sa"]["PROBLEMS"] != "-" {
		t.Errorf("sa.key 0600, sa.pub 0644: problems %q, want -", rows["sa"]["PROBLEMS"])
	}
	// But not writable by others: who replaces it has kube-apiserver
	// accept the tokens of another key (cert-permissions, as Check says).
	if err := os.Chmod(n.Path("pki/sa.pub"), 0o666); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := listWide(&out, n.CertDir(), n.Dir, certs, kcs); err != nil {
		t.Fatal(err)
	}
	rows, below = columns(t, out.String())
	if r := rows["sa"]; r["PROBLEMS"] != "cert-permissions" {
		t.Errorf("sa.pub mode 0666: problems %q, want cert-permissions:\n%s", r["PROBLEMS"], out.String())
	}
	if want := "chmod 644 " + n.Path("pki/sa.pub"); !strings.Contains(below, want) {
		t.Errorf("the problems below the table do not say %q:\n%s", want, below)
	}
}

// TestCertsListServiceAccountEncryptedKey: an sa.key encrypted with a
// passphrase is intact: certs list says to decrypt it, as check-expiration
// does for a certificate's key, not to restore it from a backup.
func TestCertsListServiceAccountEncryptedKey(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	enc := "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\n"
	if err := os.WriteFile(n.Path("pki/sa.key"), []byte(enc), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	certs, kcs := inventory(t, n)
	if err := listWide(&out, n.CertDir(), n.Dir, certs, kcs); err != nil {
		t.Fatal(err)
	}
	_, below := columns(t, out.String())
	key := n.Path("pki/sa.key")
	if want := "openssl pkey -in " + key + " -out " + key; !strings.Contains(below, want) {
		t.Errorf("the problems below the table do not say %q:\n%s", want, below)
	}
	if strings.Contains(below, "restore it from a backup") {
		t.Errorf("an encrypted sa.key is intact, but certs list says to restore it:\n%s", below)
	}
}

// TestCertsListServiceAccountWeakKey: an sa key pair weaker than certctl's
// policy (RSA-1024 here) signs tokens that anyone able to factor it can
// forge; certs list showed its algorithm and no problem. It is weak-key,
// as for a certificate's key, with what to do.
func TestCertsListServiceAccountWeakKey(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := pki.MarshalPrivateKey(weak)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM, err := pki.MarshalPublicKey(weak.Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.Path("pki/sa.key"), keyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.Path("pki/sa.pub"), pubPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	certs, kcs := inventory(t, n)
	if err := listWide(&out, n.CertDir(), n.Dir, certs, kcs); err != nil {
		t.Fatal(err)
	}
	rows, below := columns(t, out.String())
	if r := rows["sa"]; r["KEY"] != "RSA-1024" || r["PROBLEMS"] != "weak-key" {
		t.Errorf("sa row %q, want RSA-1024 and weak-key:\n%s", r, out.String())
	}
	if !strings.Contains(below, "certctl ca rotate sa") {
		t.Errorf("the weak sa key's problem does not say what to do:\n%s", below)
	}
}
