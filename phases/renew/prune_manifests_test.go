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

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
)

// TestKeepBackupsPrunesManifestBackups: each run that restarts saves the
// manifests it annotates in tmp/certctl-backup-manifests-TIME beside the
// manifest folder, and so does each retry of a restart owed, also on a day
// with nothing to renew. --keep-backups pruned only certctl-backups/: a
// node whose kube-apiserver stayed unreachable got a new folder every day,
// for years. --keep-backups N now keeps the newest N of those folders too,
// saying which it removed, and never the run's own.
func TestKeepBackupsPrunesManifestBackups(t *testing.T) {
	n, o := owedNode(t)
	o.KeepBackups, o.Restart.Timeout, o.Format = 2, time.Second, output.Format{Name: "json"}
	tmp := n.Path("tmp")
	for day := range 5 {
		clock := treetest.NewStepClock(pkitest.Made.Add(time.Duration(day) * 24 * time.Hour).Add(time.Hour))
		o.Now, o.Sleep = clock.Now, clock.Sleep
		o.Threshold, o.IfExpiresWithin = day == 4, time.Hour // the last day: nothing due, the restart owed retried
		var out bytes.Buffer
		o.Out = &out
		if err := Run(context.Background(), o); err == nil || !strings.Contains(err.Error(), "kube-apiserver") {
			t.Fatalf("day %d: %v, want kube-apiserver unreachable\n%s", day, err, out.String())
		}
		var s struct {
			Renewed               []json.RawMessage `json:"renewed"`
			PrunedManifestBackups []string          `json:"prunedManifestBackups"`
		}
		if err := json.Unmarshal(out.Bytes(), &s); err != nil {
			t.Fatalf("day %d: %v\n%s", day, err, out.String())
		}
		if (len(s.Renewed) > 0) != (day < 4) {
			t.Fatalf("day %d renewed %d certificates", day, len(s.Renewed))
		}
		dirs, _ := filepath.Glob(filepath.Join(tmp, "certctl-backup-manifests-*"))
		if want := min(day+1, 2); len(dirs) != want {
			t.Errorf("day %d: %d manifest backups %q, want %d (--keep-backups 2)", day, len(dirs), dirs, want)
		}
		own := filepath.Join(tmp, "certctl-backup-manifests-"+clock.Now().Format("2006-01-02"))
		if !slices.ContainsFunc(dirs, func(d string) bool { return strings.HasPrefix(d, own) }) {
			t.Errorf("day %d: this run's manifest backup %s* is gone: %q", day, own, dirs)
		}
		if wantPruned := min(max(day-1, 0), 1); len(s.PrunedManifestBackups) != wantPruned {
			t.Errorf("day %d: prunedManifestBackups %q, want the oldest one", day, s.PrunedManifestBackups)
		}
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 2 {
		t.Errorf("tmp/ holds %d entries, want 2", len(entries))
	}
}

// TestPruneManifestBackupsErrorAdvice: a prune that fails after the
// restarts says which folders to remove by hand: the old
// certctl-backup-manifests-* in tmp/. "remove that folder yourself" after
// an error that names tmp/ itself (it could not be read) told the user to
// remove tmp/, with kubeadm's own backups in it.
func TestPruneManifestBackupsErrorAdvice(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	if err := os.WriteFile(tmp, nil, 0o600); err != nil { // not a folder: it cannot be read
		t.Fatal(err)
	}
	r := &run{o: Options{KeepBackups: 1, Out: &bytes.Buffer{}}, summary: newSummary(time.Now(), 0)}
	r.o.Restart.ManifestDir = filepath.Join(dir, "manifests")
	err := r.pruneManifestBackups()
	treetest.ErrMentions(t, err, tmp, "the restarts are done", "certctl-backup-manifests-* in "+tmp, "--keep-backups")
}
