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

// TestDryRunSaysOwedRestarts: with restarts an earlier run left owed
// (.certctl-restarts.json) and nothing due, the real run with
// --restart-control-plane retries them and succeeds; its dry run said
// "Nothing to do" with exit 2 and no word of them. It now says the
// restart it would retry, and ends as the real run would; without
// --restart-control-plane it gives the real run's warning that they are
// still owed.
func TestDryRunSaysOwedRestarts(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	now := pkitest.Made.Add(time.Hour)
	if err := os.Mkdir(n.Path("manifests"), 0o755); err != nil {
		t.Fatal(err)
	}
	owed := `{"version":1,"components":[{"component":"etcd","manifest":"` + n.Path("manifests/etcd.yaml") + `","files":["` + n.Path("pki/etcd/server.crt") + `"],"since":"2026-12-01T00:00:00Z","reason":"it did not serve its new certificate in time"}]}`
	if err := os.WriteFile(n.Path(".certctl-restarts.json"), []byte(owed), 0o600); err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, n.Dir)
	for _, tc := range []struct {
		enabled bool
		wants   []string
	}{
		{true, []string{"retrying the restarts still owed", "[dry-run] etcd would be restarted (--restart-control-plane)", "certctl-restart-etcd", "nothing was written"}},
		{false, []string{"etcd must still be restarted to read the certificates renewed at 2026-12-01T00:00:00Z", "run again with --restart-control-plane to retry"}},
	} {
		var out, errOut bytes.Buffer
		o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"all"}, DryRun: true, Threshold: true, IfExpiresWithin: 720 * time.Hour,
			Restart: Restart{Enabled: tc.enabled, ManifestDir: n.Path("manifests"), Client: leaseClient()},
			Now:     func() time.Time { return now }, Out: &out, ErrOut: &errOut}
		err := Run(context.Background(), o)
		if tc.enabled && err != nil {
			t.Errorf("restart enabled: %v (the real run retries the owed restart and succeeds)\n%s%s", err, out.String(), errOut.String())
		}
		for _, w := range tc.wants {
			if !strings.Contains(out.String()+errOut.String(), w) {
				t.Errorf("restart enabled %v: the dry run does not say %q:\n%s%s", tc.enabled, w, out.String(), errOut.String())
			}
		}
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
}

// TestDryRunSaysEtcdQuorum: when etcd is among the restarts of
// `renew --dry-run --restart-control-plane`, the dry run says that the
// real run would first check etcd's quorum and could wait for it (the
// Lease's wait), as it names the Leases; it asks etcd nothing. Before, a
// real run that then waited 15 minutes for another member had no hint of
// it in the dry run. A renewal that restarts no etcd says nothing of it.
func TestDryRunSaysEtcdQuorum(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	now := pkitest.Made.Add(time.Hour)
	if err := os.Mkdir(n.Path("manifests"), 0o755); err != nil {
		t.Fatal(err)
	}
	want := "[dry-run] Before etcd's restart, the real run would ask this node's etcd member for the other members' health and, with three members or more, wait up to 7m0s while fewer than a quorum would be healthy without this one, then leave the restart owed. This dry run asks etcd nothing\n"
	apiWant := "[dry-run] Before the restart of kube-apiserver, or of etcd on a node with one, the real run would ask the other nodes' kube-apiservers (their mirror pods in kube-system) for /readyz and, while none is ready and this node's is, wait up to 7m0s, then leave the restart owed. This dry run asks them nothing\n"
	for _, tc := range []struct {
		args    []string
		enabled bool
		says    bool
	}{
		{[]string{"all"}, true, true},
		{[]string{"all"}, false, false},
		{[]string{"apiserver"}, true, false},
	} {
		var out, errOut bytes.Buffer
		o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: tc.args, DryRun: true,
			Restart: Restart{Enabled: tc.enabled, ManifestDir: n.Path("manifests"), Client: leaseClient(), LeaseWait: 7 * time.Minute},
			Now:     func() time.Time { return now }, Out: &out, ErrOut: &errOut}
		if err := Run(context.Background(), o); err != nil {
			t.Fatal(err, errOut.String())
		}
		if got := strings.Contains(out.String(), want); got != tc.says {
			t.Errorf("renew %v, restart enabled %v: the quorum line %q: %v, want %v\n%s", tc.args, tc.enabled, want, got, tc.says, out.String())
		}
		// kube-apiserver's restart, which renew all and renew apiserver
		// make, and etcd's, which takes it down, are checked against the
		// other kube-apiservers likewise.
		if got := strings.Contains(out.String(), apiWant); got != tc.enabled {
			t.Errorf("renew %v, restart enabled %v: the kube-apiserver line %q: %v, want %v\n%s", tc.args, tc.enabled, apiWant, got, tc.enabled, out.String())
		}
	}
}
