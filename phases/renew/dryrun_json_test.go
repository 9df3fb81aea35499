package renew

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// TestDryRunSummary: `renew --dry-run -o json|yaml` prints the summary of
// what the real run would do, with dryRun: true so that a reader knows its
// lists mean "would": renewed the planned renewals (no serial: nothing is
// signed), restartNeeded the components that would restart, skipped what
// would not be renewed. Nothing else is on stdout, and nothing is written.
// A real run's summary says dryRun: false. Before, --dry-run refused -o.
func TestDryRunSummary(t *testing.T) {
	for _, f := range []string{"json", "yaml"} {
		req := Request{Options: Options{DryRun: true, Restart: Restart{Timeout: time.Minute}}, Output: f}
		if err := req.Check(); err != nil || req.Format.Name != f {
			t.Errorf("--dry-run -o %s: %v, format %q", f, err, req.Format.Name)
		}
	}
	n := pkitest.NewNode(t, nil)
	if err := os.Mkdir(n.Path("manifests"), 0o755); err != nil {
		t.Fatal(err)
	}
	now := pkitest.Made.Add(time.Hour)
	for _, tc := range []struct {
		format string
		dry    bool
	}{{"json", true}, {"yaml", true}, {"json", false}} {
		t.Run(tc.format+map[bool]string{true: " dry run", false: " real run"}[tc.dry], func(t *testing.T) {
			before := treetest.Snapshot(t, filepath.Dir(n.Dir))
			var out, errOut bytes.Buffer
			o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"apiserver"}, DryRun: tc.dry, Format: output.Format{Name: tc.format},
				Now: func() time.Time { return now }, Out: &out, ErrOut: &errOut}
			if err := Run(context.Background(), o); err != nil {
				t.Fatal(err, errOut.String())
			}
			doc := out.Bytes()
			if tc.format == "yaml" {
				var err error
				if doc, err = yaml.YAMLToJSON(doc); err != nil {
					t.Fatalf("%v:\n%s", err, out.String())
				}
			}
			var s struct {
				Kind    string `json:"kind"`
				DryRun  *bool  `json:"dryRun"`
				Status  string `json:"status"`
				Renewed []struct {
					Name   string   `json:"name"`
					Files  []string `json:"files"`
					Serial string   `json:"serial"`
				} `json:"renewed"`
				RestartNeeded []string `json:"restartNeeded"`
			}
			if err := json.Unmarshal(doc, &s); err != nil {
				t.Fatalf("stdout is not the summary alone: %v\n%s", err, out.String())
			}
			if s.Kind != "RenewalSummary" || s.DryRun == nil || *s.DryRun != tc.dry || s.Status != "renewed" {
				t.Errorf("kind %q, dryRun %v, status %q; want RenewalSummary, %v, renewed\n%s", s.Kind, s.DryRun, s.Status, tc.dry, out.String())
			}
			files := []string{n.Path("pki/apiserver.crt"), n.Path("pki/apiserver.key")}
			if len(s.Renewed) != 1 || s.Renewed[0].Name != "apiserver" || !slices.Equal(s.Renewed[0].Files, files) || (s.Renewed[0].Serial == "") != tc.dry {
				t.Errorf("renewed = %+v, want apiserver with %q (a serial only when signed)\n%s", s.Renewed, files, out.String())
			}
			if !slices.Equal(s.RestartNeeded, []string{"kube-apiserver"}) {
				t.Errorf("restartNeeded = %q, want kube-apiserver", s.RestartNeeded)
			}
			if strings.Contains(out.String(), "[dry-run]") {
				t.Errorf("plan lines on stdout:\n%s", out.String())
			}
			if tc.dry {
				treetest.AssertSame(t, before, treetest.Snapshot(t, filepath.Dir(n.Dir)))
			}
		})
	}
}

// TestDryRunErrorSummary: a `renew --dry-run -o json` refused before the
// run (a flag that would do nothing) still prints its summary, and that
// summary said dryRun: false, as if a real run had failed: a script that
// reads dryRun to tell a plan from a run read it wrong.
func TestDryRunErrorSummary(t *testing.T) {
	var out bytes.Buffer
	req := Request{Options: Options{DryRun: true, Restart: Restart{ManifestDir: "/x"}, Out: &out, ErrOut: &bytes.Buffer{}},
		Output: "json", Given: []string{"dry-run", "manifest-dir", "output"}}
	if err := req.Main(context.Background()); err == nil {
		t.Fatal("--manifest-dir without --restart-control-plane was not refused")
	}
	var s Summary
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("no summary: %v\n%s", err, out.String())
	}
	if s.Status != "error" || !s.DryRun {
		t.Errorf("summary status %q, dryRun %v; want error, true", s.Status, s.DryRun)
	}
}
