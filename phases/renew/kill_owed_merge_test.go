package renew

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/renewal"
)

// TestKillAfterCommitKeepsRestartsOwedWithEarlierRecord is
// TestKillAfterCommitKeepsRestartsOwed when an earlier run left a restart
// owed (kube-scheduler's, which did not come back): the run wrote its own
// restarts into its transaction only when there was no record yet, and
// after the commit otherwise, so that a kill in between left kube-apiserver
// on its old certificates with a record that named only kube-scheduler.
// The next runs retried kube-scheduler and never restarted kube-apiserver,
// nor said it must be. The record, merged, is now in the transaction
// either way, and not in the backup (restoring it would put back what was
// owed before).
func TestKillAfterCommitKeepsRestartsOwedWithEarlierRecord(t *testing.T) {
	for _, tc := range owedRuns {
		t.Run(tc.name, func(t *testing.T) {
			n, o := owedNode(t)
			run := tc.start(t, o)
			path, err := staticpods.PendingPath(n.Cluster.CertificatesDir)
			if err != nil {
				t.Fatal(err)
			}
			since := pkitest.Made.Add(30 * time.Minute)
			data, err := json.Marshal(staticpods.Pending{Version: 1, Components: []staticpods.PendingComponent{{Component: "kube-scheduler",
				Manifest: n.Path("manifests/kube-scheduler.yaml"), Files: []string{n.Path("scheduler.conf")}, Since: since, Reason: "not ready after 5m0s"}}})
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, data, 0o600); err != nil {
				t.Fatal(err)
			}
			out := &killOn{text: tc.committed}
			o.Out = out
			done := make(chan error, 1)
			go func() {
				defer close(done)
				done <- run(context.Background(), o)
			}()
			if err, ended := <-done; ended {
				t.Fatalf("the run ended (%v) before the line it is killed on:\n%s", err, out.b.String())
			}
			owed, err := staticpods.LoadPending(path)
			if err != nil {
				t.Fatal(err)
			}
			if owed.Get("kube-apiserver") == nil {
				t.Errorf("apiserver.crt was replaced, but after the kill kube-apiserver is not owed a restart: %+v", owed.Components)
			}
			if c := owed.Get("kube-scheduler"); c == nil || !c.Since.Equal(since) || c.Reason == "" {
				t.Errorf("the earlier run's owed restart of kube-scheduler is not kept as it was: %+v", c)
			}
			root, err := renewal.BackupRoot(n.Cluster.CertificatesDir)
			if err != nil {
				t.Fatal(err)
			}
			backups, err := renewal.ListBackups(root)
			if err != nil || len(backups) == 0 {
				t.Fatalf("backups: %v, %v", backups, err)
			}
			for _, f := range backups[len(backups)-1].Manifest.Files {
				if filepath.Base(f.Path) == staticpods.PendingFileName {
					t.Errorf("the backup holds the record of the restarts owed, %s: restoring it would put back what was owed before", f.Path)
				}
			}
		})
	}
}
