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

// TestDryRunWarnsNoManifest: the dry runs of renew and restore with
// --restart-control-plane warn, as the real runs do, of a component that
// reads a file they would write but has no manifest in --manifest-dir,
// on stderr and in the summary. Before, only the real run said so.
func TestDryRunWarnsNoManifest(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(o Options) error
	}{
		{"renew", func(o Options) error { return Run(context.Background(), o) }},
		{"restore", func(o Options) error { return Restore(context.Background(), o, "latest") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := pkitest.NewNode(t, nil)
			manifests := n.Path("manifests")
			if err := os.Mkdir(manifests, 0o755); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"apiserver"},
				Restart: Restart{ManifestDir: manifests, Timeout: time.Minute},
				Now:     func() time.Time { return pkitest.Made.Add(time.Hour) }, Out: &out, ErrOut: &errOut}
			if err := Run(context.Background(), o); err != nil { // a backup to restore
				t.Fatal(err, errOut.String())
			}
			out.Reset()
			errOut.Reset()
			o.Restart.Enabled, o.DryRun, o.Format = true, true, output.Format{Name: "json"}
			if err := tc.run(o); err != nil {
				t.Fatal(err, errOut.String())
			}
			var s struct {
				Warnings []string `json:"warnings"`
			}
			if err := json.Unmarshal(out.Bytes(), &s); err != nil {
				t.Fatalf("%v\n%s", err, out.String())
			}
			want := "kube-apiserver uses apiserver, but " + manifests + " has no manifest of it: restart it yourself"
			if len(s.Warnings) != 1 || s.Warnings[0] != want {
				t.Errorf("warnings %q, want [%q]\nstderr:\n%s", s.Warnings, want, errOut.String())
			}
			if !strings.Contains(errOut.String(), "[warning] "+want) {
				t.Errorf("the warning is not on stderr:\n%s", errOut.String())
			}
		})
	}
}
