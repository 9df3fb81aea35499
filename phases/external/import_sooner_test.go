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
// and the node went back to certificates that expire sooner.
func TestImportExpiresBeforeTheOneItReplaces(t *testing.T) {
	tests := []struct {
		name, cert string
		notAfter   time.Time // of the signed certificate; zero: a year from now
		warn       bool
	}{
		{name: "apiserver expiring sooner", cert: "apiserver", notAfter: now.Add(100 * 24 * time.Hour), warn: true},
		{name: "admin.conf expiring sooner", cert: "admin.conf", notAfter: now.Add(100 * 24 * time.Hour), warn: true},
		{name: "apiserver expiring later", cert: "apiserver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newExtNode(t)
			n.writeCSRs(t, tt.cert)
			e, _ := pki.Kubeadm().Find(tt.cert)
			var ch change
			if !tt.notAfter.IsZero() {
				ch = func(c *x509.Certificate) { c.NotAfter = tt.notAfter }
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
			if !tt.warn {
				if len(got) != 0 {
					t.Errorf("warnings %q, want none", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("warnings %q; want one that the certificate expires sooner", res.Warnings)
			}
			assertMentions(t, got[0], "expires on "+tt.notAfter.UTC().Format(time.RFC3339), "an earlier renewal's folder", n.csrDir, "certctl restore")
		})
	}
}
