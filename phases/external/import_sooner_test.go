package external

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
)

// TestImportExpiresBeforeTheOneItReplaces: a certificate that expires
// before the one in force it replaces, as one of an earlier renewal's CSR
// folder imported again after a later renewal's does, is installed with a
// warning that says so. Before, the import installed it without a word,
// and the node went back to certificates that expire sooner. One issued
// after the certificate in force, by a CA that signs for less time (Vault
// issues for days), is not taken for an earlier renewal's: the warning
// says the CA signed it for less time, not to leave it out.
func TestImportExpiresBeforeTheOneItReplaces(t *testing.T) {
	tests := []struct {
		name, cert string
		notAfter   time.Time // of the signed certificate; zero: a year from now
		notBefore  time.Time // of the signed certificate; zero: an hour ago
		warn       []string  // what the warning says; none: no warning
	}{
		{name: "apiserver of an earlier renewal", cert: "apiserver", notAfter: now.Add(100 * 24 * time.Hour), notBefore: now.Add(-265 * 24 * time.Hour),
			warn: []string{"an earlier renewal's folder? Then do not import it"}},
		{name: "admin.conf of an earlier renewal", cert: "admin.conf", notAfter: now.Add(100 * 24 * time.Hour), notBefore: now.Add(-265 * 24 * time.Hour),
			warn: []string{"an earlier renewal's folder? Then do not import it"}},
		{name: "apiserver issued now for 30 days", cert: "apiserver", notAfter: now.Add(30*24*time.Hour - time.Hour),
			warn: []string{"it was issued after that one, for 30 days: your CA signed it for less time than before"}},
		{name: "apiserver expiring later", cert: "apiserver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newExtNode(t)
			n.writeCSRs(t, tt.cert)
			e, _ := pki.Kubeadm().Find(tt.cert)
			var ch change
			if !tt.notAfter.IsZero() {
				ch = func(c *x509.Certificate) {
					c.NotAfter = tt.notAfter
					if !tt.notBefore.IsZero() {
						c.NotBefore = tt.notBefore
					}
				}
			}
			n.sign(t, reqfile.Path(n.csrDir, e.BaseName), ch, nil)
			res, err := Import(context.Background(), n.importOptions())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Imported) != 1 || len(res.Refused) != 0 {
				t.Fatalf("imported %v, refused %v; want %s imported", res.Imported, res.Refused, tt.cert)
			}
			var got []string
			for _, w := range res.Warnings {
				if strings.Contains(w, "before the certificate it replaces") {
					got = append(got, w)
				}
			}
			if tt.warn == nil {
				if len(got) != 0 {
					t.Errorf("warnings %q, want none", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("warnings %q; want one that the certificate expires sooner", res.Warnings)
			}
			assertMentions(t, got[0], append(tt.warn, "expires on "+tt.notAfter.UTC().Format(time.RFC3339), "certctl restore")...)
			if strings.Contains(got[0], "earlier renewal") != strings.Contains(tt.warn[0], "earlier renewal") {
				t.Errorf("warning %q, want it to say %q", got[0], tt.warn[0])
			}
		})
	}
}
