package renew

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/doctest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/renewal"
)

// TestShortIssuedWarns: with --if-expires-within, a certificate that its
// issuer (a signer of the certificates API) made valid for less than the
// window is due again at the next run: a new CSR, an approval and the
// restarts at every cron run, while each run exits 0. The run says so, even
// with --quiet (a cron job prints only errors and warnings), and lists it
// in the summary's warnings; one that ends beyond the window does not.
func TestShortIssuedWarns(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 40, 36, 0, time.UTC)
	dir := t.TempDir()
	cluster := &config.Cluster{CertificatesDir: dir, CertificateValidity: 8760 * time.Hour}
	targets, err := Select(cluster, dir, []string{"etcd-server", "admin.conf"})
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	r := &run{o: Options{Cluster: cluster, KubeconfigDir: dir, Threshold: true, IfExpiresWithin: 720 * time.Hour, Quiet: true,
		Now: func() time.Time { return now }, Out: &out, ErrOut: &errOut}, summary: newSummary(now, 720*time.Hour)}
	res := &renewal.Result{Renewed: []renewal.Renewed{
		{Target: targets[0], Files: []string{dir + "/etcd/server.crt"}, NotAfter: now.Add(2 * time.Hour)},
		{Target: targets[1], Files: []string{dir + "/admin.conf"}, NotAfter: now.Add(8760 * time.Hour)},
	}}
	if err := r.finish(context.Background(), res); err != nil {
		t.Fatal(err)
	}
	want := []string{"etcd-server was issued a certificate valid until 2026-12-07T14:40:36Z (2h0m0s)", "within --if-expires-within 720h0m0s",
		"the next run renews it again", "less than the 8760h0m0s asked", "--cluster-signing-duration", "certctl signer run's --certificate-validity"}
	for _, w := range want {
		if !strings.Contains(errOut.String(), w) {
			t.Errorf("stderr does not say %q:\n%s", w, errOut.String())
		}
	}
	if strings.Contains(errOut.String(), "admin.conf") {
		t.Errorf("stderr warns about admin.conf, which ends beyond the window:\n%s", errOut.String())
	}
	// docs/cron.md shows this line.
	doc, err := doctest.Block(filepath.Join("..", "..", "docs"), "cron.md", "text", "was issued a certificate valid until")
	if err != nil {
		t.Fatal(err)
	}
	if got := errOut.String(); got != doc {
		t.Errorf("stderr differs from docs/cron.md:\n%s\nwant:\n%s", got, doc)
	}
	if len(r.summary.Warnings) != 1 || !strings.Contains(r.summary.Warnings[0], want[0]) {
		t.Errorf("summary warnings %q", r.summary.Warnings)
	}
}
