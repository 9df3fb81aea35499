package renew

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/internal/pkitest"
)

// TestKeepBackupsKeepsThisRunsBackup: --keep-backups orders backups by the
// time in their backup.json. After the clock was set back (a node that ran
// ahead, then synchronized), an earlier backup is dated after this run's:
// with --keep-backups 1 the run removed the backup it had just made (it
// said "The old files are saved in DIR", then "Removed the old backup
// DIR"), leaving no copy of the files it replaced. The run's own backup is
// always kept, and counts among the newest.
func TestKeepBackupsKeepsThisRunsBackup(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	var out, errOut bytes.Buffer
	renew := func(now time.Time) Summary {
		t.Helper()
		out.Reset()
		o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"apiserver"}, KeepBackups: 1,
			Format: output.Format{Name: "json"}, Now: func() time.Time { return now }, Out: &out, ErrOut: &errOut}
		if err := Run(context.Background(), o); err != nil {
			t.Fatal(err, errOut.String())
		}
		var s Summary
		if err := json.Unmarshal(out.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	ahead := renew(pkitest.Made.Add(48 * time.Hour))
	s := renew(pkitest.Made.Add(2 * time.Hour)) // the clock was set back
	if s.BackupDir == "" {
		t.Fatal("no backup")
	}
	if slices.Contains(s.PrunedBackups, s.BackupDir) {
		t.Errorf("the run pruned its own backup %s: pruned %q", s.BackupDir, s.PrunedBackups)
	}
	if _, err := os.Stat(s.BackupDir); err != nil {
		t.Errorf("this run's backup: %v", err)
	}
	if !slices.Equal(s.PrunedBackups, []string{ahead.BackupDir}) {
		t.Errorf("pruned %q, want the other backup %s (--keep-backups 1)", s.PrunedBackups, ahead.BackupDir)
	}
}
