package expiration

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
)

// TestMissingCertDir: a mistyped --cert-dir beside the node's kubeconfig
// folder is a certificate folder that does not exist, and the error says
// so, naming it and the flag (exit 1); it is not a report of ca-missing
// problems (exit 3) that advises restoring ca.crt from a backup.
func TestMissingCertDir(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	typo := filepath.Join(n.Dir, "pkii")
	for _, format := range []string{"text", "json"} {
		var out, errOut bytes.Buffer
		err := Report(t.Context(), Options{CertDir: typo, KubeconfigDir: n.Dir, Now: checkAt}, format, &out, &errOut)
		if err == nil || exitcode.Of(err) != exitcode.Failure {
			t.Fatalf("-o %s: exit %d: %v", format, exitcode.Of(err), err)
		}
		for _, want := range []string{typo, "does not exist", "--cert-dir"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("-o %s: error does not say %q: %v", format, want, err)
			}
		}
		if strings.Contains(err.Error(), "restore it from a backup") || out.Len() != 0 {
			t.Errorf("-o %s: %v\nstdout: %s", format, err, out.String())
		}
	}
	// --textfile still gets the metrics, which say what is missing, so
	// that a cron job's alerts fire.
	prom := filepath.Join(t.TempDir(), "certctl.prom")
	var out, errOut bytes.Buffer
	err := Report(t.Context(), Options{CertDir: typo, KubeconfigDir: n.Dir, Now: checkAt, Textfile: prom}, "text", &out, &errOut)
	if data, rerr := os.ReadFile(prom); err == nil || rerr != nil || !strings.Contains(string(data), `certctl_certificate_missing{ca="ca",file="`+filepath.Join(typo, "apiserver.crt")+`",kind="certificate",name="apiserver"} 1`) {
		t.Errorf("--textfile: %v, %v\n%s", err, rerr, data)
	}
	out.Reset()
	err = List(t.Context(), typo, n.Dir, nil, pkitest.Made, output.Format{Name: "text"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), typo) || !strings.Contains(err.Error(), "does not exist") || out.Len() != 0 {
		t.Errorf("certs list: %v\n%s", err, out.String())
	}
}

// TestMissingKubeconfigDir: a mistyped --kubeconfig-dir beside the node's
// certificate folder is a kubeconfig folder that does not exist, and the
// error says so (exit 1), naming it and the flag; it is not a report whose
// kubeconfig rows are all !MISSING! and that exits 0, which a monitoring
// job would read as healthy forever. --textfile still gets the metrics.
func TestMissingKubeconfigDir(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	typo := filepath.Join(n.Dir, "kubernetes")
	for _, format := range []string{"text", "json"} {
		var out, errOut bytes.Buffer
		err := Report(t.Context(), Options{CertDir: n.CertDir(), KubeconfigDir: typo, Now: checkAt}, format, &out, &errOut)
		if err == nil || exitcode.Of(err) != exitcode.Failure {
			t.Fatalf("-o %s: exit %d: %v", format, exitcode.Of(err), err)
		}
		for _, want := range []string{"kubeconfig folder " + typo + " does not exist", "--kubeconfig-dir"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("-o %s: error does not say %q: %v", format, want, err)
			}
		}
		if out.Len() != 0 {
			t.Errorf("-o %s: printed a report: %s", format, out.String())
		}
	}
	prom := filepath.Join(t.TempDir(), "certctl.prom")
	var out, errOut bytes.Buffer
	err := Report(t.Context(), Options{CertDir: n.CertDir(), KubeconfigDir: typo, Now: checkAt, Textfile: prom}, "text", &out, &errOut)
	if data, rerr := os.ReadFile(prom); err == nil || rerr != nil || !strings.Contains(string(data), `certctl_certificate_missing{ca="ca",file="`+filepath.Join(typo, "admin.conf")+`",kind="certificate",name="admin.conf"} 1`) {
		t.Errorf("--textfile: %v, %v\n%s", err, rerr, data)
	}
	out.Reset()
	err = List(t.Context(), n.CertDir(), typo, nil, pkitest.Made, output.Format{Name: "text"}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), typo) || !strings.Contains(err.Error(), "does not exist") || out.Len() != 0 {
		t.Errorf("certs list: %v\n%s", err, out.String())
	}
}
