package external

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestImportCertificateForAnotherKey: a certificate that is not for the new
// key of its CSR says whose key it is for and what to do. The usual case is
// a CA operator who signed the certificate in force again instead of the
// CSR: it is for the key in force. Before, the reason was only "it does not
// match the private key", naming neither key nor the CSR to sign.
func TestImportCertificateForAnotherKey(t *testing.T) {
	otherKey, _ := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	inForce := func(t *testing.T, n *extNode, name string) *x509.Certificate {
		t.Helper()
		e, _ := pki.Kubeadm().Find(name)
		if e.Kind != pki.KindKubeconfig {
			certs, err := pki.ParseCerts(read(t, pki.Store{Dir: n.CertDir()}.CertPath(e.BaseName)))
			if err != nil {
				t.Fatal(err)
			}
			return certs[0]
		}
		cfg, err := kubeconfig.Load(n.Path(e.BaseName))
		if err != nil {
			t.Fatal(err)
		}
		cert, _, err := kubeconfig.ClientCert(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return cert
	}
	tests := []struct {
		name, cert string
		// key is the key the CA signs, nil for the key in force.
		key  any
		want []string // with CSRDIR for the CSR folder, CERTDIR for the certificate folder
	}{
		{name: "apiserver in force signed again", cert: "apiserver",
			want: []string{"it does not match the private key; it is for the key of the certificate in force CERTDIR/apiserver.crt, not for the new key CSRDIR/apiserver.key that apiserver.csr was made with",
				"have CSRDIR/apiserver.csr signed, and put what your CA returns at CSRDIR/apiserver.crt"}},
		{name: "admin.conf in force signed again", cert: "admin.conf",
			want: []string{"it is for the key of the certificate in force DIR/admin.conf, not for the new key CSRDIR/admin.conf that admin.conf.csr was made with",
				"have CSRDIR/admin.conf.csr signed"}},
		{name: "etcd-server for another key", cert: "etcd-server", key: otherKey.Public(),
			want: []string{"it is for another key than CSRDIR/etcd/server.key, the one server.csr was made with: have CSRDIR/etcd/server.csr signed, and put what your CA returns at CSRDIR/etcd/server.crt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newExtNode(t)
			n.writeCSRs(t, tt.cert)
			e, _ := pki.Kubeadm().Find(tt.cert)
			key := tt.key
			if key == nil {
				key = inForce(t, n, tt.cert).PublicKey
			}
			n.sign(t, reqfile.Path(n.csrDir, e.BaseName), func(c *x509.Certificate) { c.PublicKey = key }, nil)
			before := treetest.Snapshot(t, n.Dir)
			res, err := Import(context.Background(), n.importOptions())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Refused) != 1 || len(res.Imported) != 0 {
				t.Fatalf("refused %v, imported %v; want %s refused", res.Refused, res.Imported, tt.cert)
			}
			var want []string
			for _, w := range tt.want {
				w = strings.ReplaceAll(w, "CSRDIR", n.csrDir)
				w = strings.ReplaceAll(w, "CERTDIR", n.CertDir())
				want = append(want, strings.ReplaceAll(w, "DIR/", n.Dir+string(filepath.Separator)))
			}
			assertMentions(t, res.Refused[0].Reason, want...)
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
		})
	}
}
