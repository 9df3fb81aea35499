package renew

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestDryRunSaysLeases: `renew all --dry-run --restart-control-plane` says
// that the real run's restarts would wait for and take a Lease per
// component, which ones, and that the dry run takes none: it makes no
// request for a Lease. Before, it listed the components only, and a node
// whose run then waited 15 minutes for another node's Lease had no hint of
// it.
func TestDryRunSaysLeases(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	now := pkitest.Made.Add(time.Hour)
	if err := os.Mkdir(n.Path("manifests"), 0o755); err != nil {
		t.Fatal(err)
	}
	want := "[dry-run] Each restart would first wait for and take its component's Lease in kube-system (certctl-restart-etcd, certctl-restart-kube-apiserver, certctl-restart-kube-controller-manager, certctl-restart-kube-scheduler), so that one control-plane node at a time restarts it; etcd's also takes kube-apiserver's on a node that runs one. This dry run reads and takes no Lease\n"
	for _, enabled := range []bool{true, false} {
		cs := leaseClient()
		var out, errOut bytes.Buffer
		o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"all"}, DryRun: true,
			Restart: Restart{Enabled: enabled, ManifestDir: n.Path("manifests"), Client: cs},
			Now:     func() time.Time { return now }, Out: &out, ErrOut: &errOut}
		if err := Run(context.Background(), o); err != nil {
			t.Fatal(err, errOut.String())
		}
		if strings.Contains(out.String(), want) != enabled {
			t.Errorf("restart enabled %v: the Lease line %q: %v, want %v\n%s", enabled, want, !enabled, enabled, out.String())
		}
		if a := cs.Actions(); len(a) != 0 {
			t.Errorf("restart enabled %v: the dry run asked the API server: %v", enabled, a)
		}
	}
}
