package external

import (
	"context"
	"crypto/x509"
	"slices"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/external/reqfile"
)

// TestImportRequestEditedAgainstItsCSR: the request file was edited by
// hand after certctl wrote it beside the CSR, and the CA signed what it
// said. SANs of the CSR it dropped (kubernetes.default.svc, the service
// address: every pod's client checks them) are refused, naming both
// files, the SANs and the command that writes the request again; nothing
// is installed. Before, the import checked the certificate against the
// edited request only, and installed an API server certificate that
// in-cluster clients reject. A SAN added (TestImportRequestOfAnotherNode)
// and the validity, which the import does not enforce, may be edited.
func TestImportRequestEditedAgainstItsCSR(t *testing.T) {
	for _, tt := range []struct {
		name string
		edit func(r *reqfile.Request)
		ok   bool
	}{
		{"SANs dropped", func(r *reqfile.Request) {
			r.DNSNames = slices.DeleteFunc(r.DNSNames, func(s string) bool { return s == "kubernetes.default.svc" })
			r.IPAddresses = r.IPAddresses[1:]
		}, false},
		{"SAN added", func(r *reqfile.Request) { r.DNSNames = append(r.DNSNames, "api.example.com") }, true},
		{"validity", func(r *reqfile.Request) { r.Validity, r.ValidityDays = "17520h0m0s", 730 }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := newExtNode(t)
			n.writeCSRs(t, "apiserver")
			path := reqfile.Path(n.csrDir, "apiserver")
			r, err := reqfile.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(r)
			if _, err := reqfile.Write(path, r); err != nil {
				t.Fatal(err)
			}
			// As sign.sh does: the SANs from the request file, not the CSR.
			p, err := r.Profile()
			if err != nil {
				t.Fatal(err)
			}
			n.sign(t, path, func(c *x509.Certificate) { c.DNSNames, c.IPAddresses = p.DNSNames, p.IPs }, nil)
			before := treetest.Snapshot(t, n.Dir)
			res, err := Import(context.Background(), n.importOptions())
			if err != nil {
				t.Fatal(err)
			}
			if tt.ok {
				if len(res.Imported) != 1 {
					t.Fatalf("imported %v, refused %v; want apiserver installed", res.Imported, res.Refused)
				}
				return
			}
			if len(res.Refused) != 1 || len(res.Imported) != 0 {
				t.Fatalf("refused %v, imported %v; want apiserver refused", res.Refused, res.Imported)
			}
			assertMentions(t, res.Refused[0].Reason, path+" does not ask for the SANs kubernetes.default.svc, 10.96.0.1, which its CSR apiserver.csr asks for", "certctl renew apiserver --use-csr")
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
		})
	}
}
