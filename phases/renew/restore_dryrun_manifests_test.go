package renew

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// TestRestoreDryRunChecksTheManifestFolder: `restore NAME --dry-run
// --restart-control-plane` read no --manifest-dir, and said the
// components would be restarted where the real restore refuses the
// folder (missing, misspelt) before it writes anything. renew --dry-run
// reads it; so does restore's now.
func TestRestoreDryRunChecksTheManifestFolder(t *testing.T) {
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
	for _, tc := range []struct {
		name, dir string
		err       string // what the dry run must fail with
	}{
		{name: "missing folder", dir: n.Path("nosuch"), err: "read static pod manifest folder " + n.Path("nosuch")},
		{name: "folder without the component's manifest", dir: manifests},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out.Reset()
			errOut.Reset()
			before := treetest.Snapshot(t, n.Dir)
			o := o
			o.DryRun, o.Restart.Enabled, o.Restart.ManifestDir = true, true, tc.dir
			err := Restore(context.Background(), o, "latest")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q\n%s", err, tc.err, out.String())
				}
			} else if err != nil {
				t.Fatal(err, errOut.String())
			}
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
		})
	}
}
