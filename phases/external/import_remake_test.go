package external

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestImportKeyWithoutCSRFirstInstallation: on a first installation (the
// certificate and kubeconfig are not on the node yet) a key without its
// CSR is refused with the init-phase command that makes the CSR again,
// with the node's folders: `certctl renew` fails there, having no
// certificate to renew.
func TestImportKeyWithoutCSRFirstInstallation(t *testing.T) {
	n := newExtNode(t)
	n.writeCSRs(t, "apiserver", "admin.conf")
	for _, f := range []string{"apiserver.csr", "apiserver.request.json", "admin.conf.csr", "admin.conf.request.json"} {
		if err := os.Remove(filepath.Join(n.csrDir, f)); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{filepath.Join(n.CertDir(), "apiserver.crt"), filepath.Join(n.CertDir(), "apiserver.key"), n.Path("admin.conf")} {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Import(context.Background(), n.importOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Refused) != 2 {
		t.Fatalf("refused %v, want apiserver and admin.conf", res.Refused)
	}
	want := map[string]string{"apiserver": "certctl init-phase certs apiserver --use-csr --csr-dir ", "admin.conf": "certctl init-phase kubeconfig admin --use-csr --csr-dir "}
	for _, r := range res.Refused {
		assertMentions(t, r.Reason, want[r.Name], "--cert-dir "+n.CertDir(), "with the --config of the first run")
		if r.Name == "admin.conf" {
			assertMentions(t, r.Reason, "--kubeconfig-dir "+n.Dir)
		}
	}
}
