package external

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"os"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/external/reqfile"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestImportSubjectFromInventory: the subject a kubeconfig's certificate
// must carry comes from the inventory, or from the certificate in force as
// renew keeps it, never from the CSR folder alone: a request file edited to
// O=system:masters is refused, with nothing installed, while an admin.conf
// that already has kubeadm's older O=system:masters is renewed with it.
func TestImportSubjectFromInventory(t *testing.T) {
	masters := func(c *x509.Certificate) { c.Subject.Organization = []string{pki.MastersGroup} }
	tests := []struct {
		name string
		kc   string
		// currentMasters gives the kubeconfig in force O=system:masters.
		currentMasters bool
		editRequest    bool
		refused        []string
	}{
		{name: "controller-manager.conf edited to system:masters", kc: "controller-manager.conf", editRequest: true,
			refused: []string{"controller-manager.conf.request.json asks for the subject CN=system:kube-controller-manager, O=system:masters",
				"inventory gives controller-manager.conf the subject CN=system:kube-controller-manager",
				"certctl renew controller-manager.conf --use-csr"}},
		{name: "admin.conf edited to system:masters", kc: "admin.conf", editRequest: true,
			refused: []string{"admin.conf.request.json asks for the subject CN=kubernetes-admin, O=system:masters",
				"the subject CN=kubernetes-admin, O=kubeadm:cluster-admins (or, as renew keeps it, the current certificate's CN=kubernetes-admin, O=kubeadm:cluster-admins)"}},
		{name: "admin.conf in force with system:masters is renewed with it", kc: "admin.conf", currentMasters: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newExtNode(t)
			if tt.currentMasters {
				n.resignKubeconfig(t, tt.kc, masters)
			}
			n.writeCSRs(t, tt.kc)
			reqPath := reqfile.Path(n.csrDir, tt.kc)
			var ch change
			if tt.editRequest {
				r, err := reqfile.Read(reqPath)
				if err != nil {
					t.Fatal(err)
				}
				r.Subject.Organization = []string{pki.MastersGroup}
				if _, err := reqfile.Write(reqPath, r); err != nil {
					t.Fatal(err)
				}
				ch = masters
			}
			n.sign(t, reqPath, ch, nil)
			before := treetest.Snapshot(t, n.Dir)
			res, err := Import(context.Background(), n.importOptions())
			if err != nil {
				t.Fatal(err)
			}
			if tt.refused == nil {
				if len(res.Refused) != 0 || len(res.Imported) != 1 {
					t.Fatalf("refused %v, imported %v; want %s imported", res.Refused, res.Imported, tt.kc)
				}
				return
			}
			if len(res.Refused) != 1 || len(res.Imported) != 0 {
				t.Fatalf("refused %v, imported %v; want %s refused", res.Refused, res.Imported, tt.kc)
			}
			assertMentions(t, res.Refused[0].Reason, tt.refused...)
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
		})
	}
}

// resignKubeconfig replaces the client certificate of the kubeconfig kc
// by one the CA signs for the same key after ch changes it.
func (n *extNode) resignKubeconfig(t *testing.T, kc string, ch change) {
	t.Helper()
	path := n.Path(kc)
	cfg, err := kubeconfig.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	cert, _, err := kubeconfig.ClientCert(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := *cert
	ch(&tmpl)
	tmpl.Subject.Names, tmpl.Subject.ExtraNames = nil, nil
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, n.caCerts["ca"], cert.PublicKey, n.caKeys["ca"])
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	data, err := kubeconfig.SetClientCert(cfg, path, nil, pki.EncodeCert(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
