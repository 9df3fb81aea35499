package expiration

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/pkitest"
)

// TestTextfileNoneExists: a check of folders that hold none of the files
// (every file gone, or the wrong folders from the start) failed before it
// wrote --textfile, so a cron job's file kept the last good check's
// metrics, every file there, and no certificate alert fired. The metrics
// are now written first: every file missing, the certificate folder's
// no-files problem and the check's time; the check still fails (exit 1)
// with the same error.
func TestTextfileNoneExists(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	prom := filepath.Join(t.TempDir(), "certctl.prom")
	o := Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Now: checkAt, Textfile: prom}
	var out, errOut bytes.Buffer
	if err := Report(t.Context(), o, "text", &out, &errOut); err != nil {
		t.Fatalf("whole node: %v", err)
	}
	// Every file gone: the folders left empty.
	if err := os.RemoveAll(n.Dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(n.CertDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	later := checkAt.Add(time.Hour)
	o.Now = later
	out.Reset()
	err := Report(t.Context(), o, "text", &out, &errOut)
	if exitcode.Of(err) != exitcode.Failure || !strings.Contains(fmt.Sprint(err), "none of the 15 certificates") {
		t.Fatalf("emptied node: exit %d: %v", exitcode.Of(err), err)
	}
	data, rerr := os.ReadFile(prom)
	if rerr != nil {
		t.Fatal(rerr)
	}
	for _, want := range []string{
		`certctl_certificate_missing{ca="ca",file="` + filepath.Join(n.CertDir(), "apiserver.crt") + `",kind="certificate",name="apiserver"} 1`,
		`certctl_certificate_missing{ca="ca",file="` + filepath.Join(n.Dir, "admin.conf") + `",kind="certificate",name="admin.conf"} 1`,
		`certctl_certificate_problem{ca="",file="` + n.CertDir() + `",kind="folder",name="cert-dir",type="no-files"} 1`,
		fmt.Sprintf("%s %g\n", MetricCheckedAt, float64(later.Unix())),
	} {
		if !strings.Contains(string(data), want) {
			t.Errorf("--textfile has no %q:\n%s", want, data)
		}
	}
	if strings.Contains(string(data), MetricExpiry+"{") {
		t.Errorf("--textfile still has an expiry:\n%s", data)
	}
}
