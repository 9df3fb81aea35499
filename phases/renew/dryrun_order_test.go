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

// TestDryRunRestartOrder: `renew all --dry-run --restart-control-plane`
// lists the components in the order the real run restarts them (etcd
// first, then kube-apiserver, kube-controller-manager, kube-scheduler), not
// in the order of the first certificate each one reads.
func TestDryRunRestartOrder(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	now := pkitest.Made.Add(time.Hour)
	if err := os.Mkdir(n.Path("manifests"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, enabled := range []bool{true, false} {
		var out, errOut bytes.Buffer
		o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"all"}, DryRun: true,
			Restart: Restart{Enabled: enabled, ManifestDir: n.Path("manifests")},
			Now:     func() time.Time { return now }, Out: &out, ErrOut: &errOut}
		if err := Run(context.Background(), o); err != nil {
			t.Fatal(err, errOut.String())
		}
		want := "[dry-run] etcd, kube-apiserver, kube-controller-manager, kube-scheduler would"
		if !strings.Contains(out.String(), want) {
			t.Errorf("restart enabled %v: output lacks %q:\n%s", enabled, want, out.String())
		}
	}
}
