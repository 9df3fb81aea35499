package renew

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
)

// TestDryRunAPINotAfter: `renew --use-api --dry-run -o json` gives each
// planned renewal the end of the validity it would ask the certificates
// API for, as a renewal from the CA on disk gives the one it would sign;
// not 0001-01-01T00:00:00Z, which a monitoring job reads as a certificate
// that expired two thousand years ago.
func TestDryRunAPINotAfter(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	now := pkitest.Made.Add(time.Hour)
	var out, errOut bytes.Buffer
	o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"apiserver", "admin.conf"}, DryRun: true, API: &API{},
		Format: output.Format{Name: "json"}, Now: func() time.Time { return now }, Out: &out, ErrOut: &errOut}
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err, errOut.String())
	}
	var s struct {
		Renewed []struct {
			Name     string    `json:"name"`
			NotAfter time.Time `json:"notAfter"`
		} `json:"renewed"`
	}
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	want := now.Add(n.Cluster.CertificateValidity).UTC().Truncate(time.Second)
	if len(s.Renewed) != 2 {
		t.Fatalf("renewed %+v\n%s", s.Renewed, out.String())
	}
	for _, r := range s.Renewed {
		if !r.NotAfter.Equal(want) {
			t.Errorf("%s: notAfter %v, want %v (now + the validity asked)", r.Name, r.NotAfter, want)
		}
	}
}
