package external

import (
	"context"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
)

// TestImportSignedByAnotherCAOfTheNode: a certificate signed by another CA
// of the certificate folder than its own (the CA operator used etcd-ca's
// key for apiserver, say) is refused naming the CA that signed it and the
// one it needs. Before, the reason took that CA for an intermediate left
// out of the file, and said to append it, which could not work. A CA the
// node does not have still gets that advice.
func TestImportSignedByAnotherCAOfTheNode(t *testing.T) {
	tests := []struct {
		name, cert string
		signer     string // the CA base name that signs; "" for a CA the node does not have
		want       []string
		not        []string
	}{
		{name: "apiserver by etcd-ca", cert: "apiserver", signer: "etcd/ca",
			want: []string{"it is signed by the CA etcd-ca (CERTDIR/etcd/ca.crt), but the components check apiserver against the CA ca (CERTDIR/ca.crt): have CSRDIR/apiserver.csr signed by ca"},
			not:  []string{"intermediate"}},
		{name: "etcd-server by ca", cert: "etcd-server", signer: "ca",
			want: []string{"it is signed by the CA ca (CERTDIR/ca.crt), but the components check etcd-server against the CA etcd-ca (CERTDIR/etcd/ca.crt): have CSRDIR/etcd/server.csr signed by etcd-ca"}},
		{name: "admin.conf by front-proxy-ca", cert: "admin.conf", signer: "front-proxy-ca",
			want: []string{"it is signed by the CA front-proxy-ca (CERTDIR/front-proxy-ca.crt), but the components check admin.conf against the CA ca"}},
		{name: "apiserver by a CA the node does not have", cert: "apiserver",
			want: []string{`it is issued by "CN=issuing CA": if that is an intermediate CA under`},
			not:  []string{"it is signed by the CA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newExtNode(t)
			n.writeCSRs(t, tt.cert)
			e, _ := pki.Kubeadm().Find(tt.cert)
			ca := newIssuer(t, "issuing CA")
			if tt.signer != "" {
				ca = &issuer{cert: n.caCerts[tt.signer], key: n.caKeys[tt.signer]}
			}
			n.sign(t, reqfile.Path(n.csrDir, e.BaseName), nil, ca)
			before := treetest.Snapshot(t, n.Dir)
			res, err := Import(context.Background(), n.importOptions())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Refused) != 1 || len(res.Imported) != 0 {
				t.Fatalf("refused %v, imported %v; want %s refused", res.Refused, res.Imported, tt.cert)
			}
			reason := res.Refused[0].Reason
			for _, w := range tt.want {
				assertMentions(t, reason, strings.NewReplacer("CSRDIR", n.csrDir, "CERTDIR", n.CertDir()).Replace(w))
			}
			for _, w := range tt.not {
				if strings.Contains(reason, w) {
					t.Errorf("the reason says %q: %s", w, reason)
				}
			}
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
		})
	}
}
