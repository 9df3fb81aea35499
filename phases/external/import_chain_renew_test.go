package external

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/phases/expiration"
	"github.com/certctl/certctl/phases/external/reqfile"
)

// TestKubeconfigChainRenewsAndChecks: a kubeconfig's client certificate
// imported with its issuing CA (client-certificate-data holds the leaf,
// then the intermediate; ca.crt is the root) is what kube-apiserver
// accepts. The next `renew --use-csr` must plan it, and check-expiration
// must not call it not-signed-by-ca: both checked the leaf without the
// intermediates that follow it.
func TestKubeconfigChainRenewsAndChecks(t *testing.T) {
	n := newExtNode(t)
	n.writeCSRs(t, "admin.conf", "apiserver")
	inter := n.intermediate(t, "ca", "issuing CA", nil)
	for _, name := range []string{"admin.conf", "apiserver"} {
		n.sign(t, reqfile.Path(n.csrDir, name), nil, inter)
		appendCerts(t, filepath.Join(n.csrDir, name+".crt"), inter.cert)
	}
	res, err := Import(context.Background(), n.importOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Imported) != 2 || len(res.Refused) != 0 {
		t.Fatalf("imported %v, refused %v", res.Imported, res.Refused)
	}

	info, err := expiration.Check(expiration.Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range info.Certificates {
		if (c.Name == "admin.conf" || c.Name == "apiserver") && len(c.Problems) != 0 {
			t.Errorf("check-expiration, %s signed by the issuing CA under ca.crt: %+v", c.Name, c.Problems)
		}
	}

	if err := os.RemoveAll(n.csrDir); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteCSRs(context.Background(), n.targets(t, "admin.conf", "apiserver"), n.csrDir, n.csrOptions()); err != nil {
		t.Errorf("renew --use-csr after the import: %v", err)
	}
}
