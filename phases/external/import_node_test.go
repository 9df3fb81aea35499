package external

import (
	"context"
	"crypto/x509"
	"slices"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
)

// TestImportRequestOfAnotherNode: a CSR folder made on node cp-2 (or with
// its settings), signed by the same CAs and imported on node cp-1, whose
// certificates in force name it cp-1, is refused where it would make cp-1
// another node: a CN naming the node (etcd's) or SANs that lose the node's
// name (the API server's). Before, the import installed them, and cp-1's
// API server and etcd served as cp-2. A request that keeps the node's name
// and adds a SAN is still imported.
func TestImportRequestOfAnotherNode(t *testing.T) {
	rename := func(names []string) []string {
		out := slices.Clone(names)
		for i, n := range out {
			if n == "cp-1" {
				out[i] = "cp-2"
			}
		}
		return out
	}
	tests := []struct {
		name    string
		cert    string // the certificate whose request is edited
		edit    func(r *reqfile.Request)
		refused []string // nil: imported
	}{
		{name: "etcd-server of node cp-2", cert: "etcd-server",
			edit: func(r *reqfile.Request) { r.Subject.CommonName, r.DNSNames = "cp-2", rename(r.DNSNames) },
			refused: []string{`etcd/server.request.json asks for a certificate of node "cp-2" (CN=cp-2), but this node is "cp-1", as `,
				"the CSR folder is another node's", "certctl renew etcd-server --use-csr --csr-dir NEWDIR"}},
		{name: "etcd-peer of node cp-2", cert: "etcd-peer",
			edit:    func(r *reqfile.Request) { r.Subject.CommonName, r.DNSNames = "cp-2", rename(r.DNSNames) },
			refused: []string{`etcd/peer.request.json asks for a certificate of node "cp-2" (CN=cp-2), but this node is "cp-1"`}},
		{name: "apiserver of node cp-2", cert: "apiserver",
			edit: func(r *reqfile.Request) { r.DNSNames = rename(r.DNSNames) },
			refused: []string{`apiserver.request.json asks for the DNS names cp-2, kubernetes`,
				`without this node's name "cp-1"`, "pki/apiserver.crt has", "certctl renew apiserver --use-csr --csr-dir NEWDIR"}},
		{name: "apiserver with a SAN added", cert: "apiserver",
			edit: func(r *reqfile.Request) { r.DNSNames = append(r.DNSNames, "api.example.com") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newExtNode(t)
			n.writeCSRs(t, tt.cert)
			e, _ := pki.Kubeadm().Find(tt.cert)
			reqPath := reqfile.Path(n.csrDir, e.BaseName)
			r, err := reqfile.Read(reqPath)
			if err != nil {
				t.Fatal(err)
			}
			tt.edit(r)
			if _, err := reqfile.Write(reqPath, r); err != nil {
				t.Fatal(err)
			}
			// The CA operator signs what the request file asks for.
			n.sign(t, reqPath, func(c *x509.Certificate) {
				c.Subject.CommonName, c.DNSNames = r.Subject.CommonName, r.DNSNames
			}, nil)
			before := treetest.Snapshot(t, n.Dir)
			res, err := Import(context.Background(), n.importOptions())
			if err != nil {
				t.Fatal(err)
			}
			if tt.refused == nil {
				if len(res.Refused) != 0 || len(res.Imported) != 1 {
					t.Fatalf("refused %v, imported %v; want %s imported", res.Refused, res.Imported, tt.cert)
				}
				return
			}
			if len(res.Refused) != 1 || len(res.Imported) != 0 {
				t.Fatalf("refused %v, imported %v; want %s refused", res.Refused, res.Imported, tt.cert)
			}
			assertMentions(t, res.Refused[0].Reason, tt.refused...)
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
		})
	}
}
