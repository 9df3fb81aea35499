package renew

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
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
	r := &run{o: Options{KeepBackups: 1, Out: &bytes.Buffer{}, Now: time.Now}, summary: newSummary(time.Now(), 0)}
	r.o.Restart.ManifestDir = filepath.Join(dir, "manifests")
	err := r.pruneManifestBackups()
	treetest.ErrMentions(t, err, tmp, "the restarts are done", "certctl-backup-manifests-* in "+tmp, "--keep-backups")
}

// TestPruneManifestBackupsSaysWhatIsLeft: a manifest backup folder that
// could not be removed (a file in it made immutable) was said "Removed"
// after it was renamed away, and the prune stopped there, so an older
// folder renamed too stayed with its files. Now the other folder is
// removed, the failed one is said not removed and left as its dot-name,
// which the error names too.
func TestPruneManifestBackupsSaysWhatIsLeft(t *testing.T) {
	treetest.RequireChattr(t)
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	var olds []string
	for _, name := range []string{"2026-01-01-00-00-00", "2026-01-02-00-00-00", "2026-01-03-00-00-00"} {
		d := filepath.Join(tmp, "certctl-backup-manifests-"+name)
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "kube-apiserver.yaml"), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		olds = append(olds, d)
	}
	stuck, other, kept := olds[0], olds[1], olds[2]
	leftAs := filepath.Join(tmp, ".removing-"+filepath.Base(stuck))
	treetest.Chattr(t, "+i", filepath.Join(stuck, "kube-apiserver.yaml"))
	t.Cleanup(func() { exec.Command("chattr", "-i", filepath.Join(leftAs, "kube-apiserver.yaml")).Run() })

	var out bytes.Buffer
	feb := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
	r := &run{o: Options{KeepBackups: 1, Out: &out, Now: func() time.Time { return feb }}, summary: newSummary(feb, 0)}
	r.o.Restart.ManifestDir = filepath.Join(dir, "manifests")
	err := r.pruneManifestBackups()
	treetest.ErrMentions(t, err, "remove old manifest backup "+stuck, "it is left as "+leftAs, "the restarts are done")
	if want := "[restart] Could not remove the old manifest backup " + stuck + " (--keep-backups 1): it is left as " + leftAs + ", which the next prune removes once it can\n"; !strings.Contains(out.String(), want) {
		t.Errorf("output does not say %q:\n%s", want, out.String())
	}
	if strings.Contains(out.String(), "Removed the old manifest backup "+stuck) || slices.Contains(r.summary.PrunedManifestBackups, stuck) {
		t.Errorf("the folder that could not be removed is said removed:\n%s", out.String())
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 2 || entries[0].Name() != filepath.Base(leftAs) || entries[1].Name() != filepath.Base(kept) {
		t.Errorf("tmp/ holds %v, want %s and %s (%s removed)", entries, filepath.Base(leftAs), filepath.Base(kept), other)
	}
}
