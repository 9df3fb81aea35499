package expiration

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestExpiredCAWithValidLeaves: a CA that has expired while the
// certificates it signed have not (renewed by a tool that does not cap them
// to the CA, an external CA) is the CA's expiry, on the CA's row, exit
// status 2 (docs/exit-codes.md: "a certificate or CA ... has expired").
// Its certificates are signed by it: check-expiration reported each as
// not-signed-by-ca, exit 3, saying that "the CA certificate was re-issued
// with the same key", which nobody did.
func TestExpiredCAWithValidLeaves(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	old, key := n.CA(t, "ca")
	tmpl := *old
	tmpl.NotAfter = checkAt.Add(-24 * time.Hour) // expired a day before the check
	ca := pkitest.SelfSigned(t, key, &tmpl)
	if err := os.WriteFile(n.Path("pki/ca.crt"), pki.EncodeCert(ca), 0o644); err != nil {
		t.Fatal(err)
	}
	info := check(t, n, nil)
	if p := info.Problems(); len(p) > 0 {
		t.Errorf("problems with an expired CA whose certificates are valid:\n%s", strings.Join(p, "\n"))
	}
	var caRow Certificate
	for _, c := range info.CertificateAuthorities {
		if c.Name == "ca" {
			caRow = c
		}
	}
	if !caRow.ExpiringSoon || caRow.ResidualTimeSeconds >= 0 {
		t.Errorf("expired CA row: expiringSoon %v, residualTime %d", caRow.ExpiringSoon, caRow.ResidualTimeSeconds)
	}
	var out bytes.Buffer
	err := Report(t.Context(), Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: checkAt}, "text", &out, &out)
	if got := exitcode.Of(err); got != exitcode.ExpiringSoon {
		t.Errorf("exit status %d (%v), want %d", got, err, exitcode.ExpiringSoon)
	}
	// A certificate that another CA signed is still not signed by it.
	other := pkitest.NewNode(t, nil)
	data, err := os.ReadFile(other.Path("pki/apiserver.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.Path("pki/apiserver.crt"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(n.Path("pki/apiserver.key"), must(os.ReadFile(other.Path("pki/apiserver.key"))), 0o600); err != nil {
		t.Fatal(err)
	}
	info = check(t, n, nil)
	for _, c := range info.Certificates {
		if c.Name == "apiserver" && ProblemTypes(c.Problems) != string(NotSignedByCA) {
			t.Errorf("apiserver of another CA: problems %q, want %s", ProblemTypes(c.Problems), NotSignedByCA)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
