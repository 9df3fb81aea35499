package external

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// TestIssuer: the external CA as the renewal engine's issuer. Before the
// CA operator signs, the renewal fails naming the missing certificate and
// changes nothing; after, the engine checks and installs what was signed
// for the key of the CSR.
func TestIssuer(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	now := pkitest.Made.Add(24 * time.Hour)
	clock := func() time.Time { return now }
	targets, err := renewal.Select(pki.Kubeadm(), []string{"apiserver"}, false)
	if err != nil {
		t.Fatal(err)
	}
	csrDir := t.TempDir()
	if _, err := WriteCSRs(context.Background(), targets, csrDir, renewal.Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: clock, Rand: rand.Reader}); err != nil {
		t.Fatal(err)
	}
	is := Issuer{CSRDir: csrDir}
	o := renewal.Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Issuer: is, Now: clock, Rand: rand.Reader}
	store, csrs := pki.Store{Dir: n.CertDir()}, pki.Store{Dir: csrDir}
	was, _, err := store.ReadCert("apiserver")
	if err != nil {
		t.Fatal(err)
	}

	if _, err := renewal.Renew(context.Background(), targets, o); err == nil || !strings.Contains(err.Error(), csrs.CertPath("apiserver")) {
		t.Fatalf("renew before the CA signed: %v, want an error naming %s", err, csrs.CertPath("apiserver"))
	}
	if now, _, _ := store.ReadCert("apiserver"); !now.Equal(was) {
		t.Fatal("a failed renewal replaced apiserver.crt")
	}

	// The CA operator signs what the CSR asks for.
	asked, err := pki.ReadCSRFile(csrs.CSRPath("apiserver"))
	if err != nil {
		t.Fatal(err)
	}
	ca, caKey := n.CA(t, pki.CAName)
	p := pki.ProfileFromCert("apiserver", "apiserver", pki.CAName, was)
	signed, err := pki.Sign(rand.Reader, p, asked.PublicKey, ca, caKey, pki.NewValidity(now, time.Minute, 90*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := csrs.WriteCert("apiserver", signed); err != nil {
		t.Fatal(err)
	}
	res, err := renewal.Renew(context.Background(), targets, o)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := store.ReadCert("apiserver")
	if err != nil || !got.Equal(signed) || len(res.Renewed) != 1 {
		t.Fatalf("installed %v (%v), renewed %+v; want the signed certificate", got.SerialNumber, err, res.Renewed)
	}
	key, err := store.ReadKey("apiserver")
	if err != nil || !pki.SamePublicKey(key.Public(), asked.PublicKey) {
		t.Errorf("apiserver.key is not the CSR's key (%v)", err)
	}
	if s := is.String(); !strings.Contains(s, csrDir) {
		t.Errorf("String() = %q, want the CSR folder", s)
	}
}
