package renew

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
)

// TestRestoreSummaryRestartWarnings: the warnings of restore's restarts
// (a component that reads a restored file but has no manifest in
// --manifest-dir, a restart Lease another node took over) are in
// RestoreSummary's warnings, as in renew's summary. Before, restore -o
// json listed the restore's own warnings only: these went to stderr alone.
func TestRestoreSummaryRestartWarnings(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	manifests := n.Path("manifests")
	if err := os.Mkdir(manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"apiserver"},
		Restart: Restart{ManifestDir: manifests, Timeout: time.Minute},
		Now:     func() time.Time { return pkitest.Made.Add(time.Hour) }, Out: &out, ErrOut: &errOut}
	if err := Run(context.Background(), o); err != nil {
		t.Fatal(err, errOut.String())
	}
	out.Reset()
	o.Restart.Enabled, o.Format = true, output.Format{Name: "json"}
	if err := Restore(context.Background(), o, "latest"); err != nil {
		t.Fatal(err, errOut.String())
	}
	var s struct {
		Kind     string   `json:"kind"`
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	want := "kube-apiserver uses apiserver, but " + manifests + " has no manifest of it: restart it yourself"
	if s.Kind != "RestoreSummary" || len(s.Warnings) != 1 || s.Warnings[0] != want {
		t.Errorf("%s warnings %q, want [%q]\nstderr:\n%s", s.Kind, s.Warnings, want, errOut.String())
	}
	if !strings.Contains(errOut.String(), "[warning] "+want) {
		t.Errorf("the warning is not on stderr:\n%s", errOut.String())
	}
}
