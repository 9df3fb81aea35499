package renewal

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestBackupOrder: `restore latest` and prune take the backup made last,
// and the names of one second sort in the order they were made, whatever
// the clock says: after it was set back (the last backup dated before the
// others), when a backup of an older certctl (no seq in backup.json) is
// dated after the new ones, and when each run of one second prunes the
// first of that second. Before, latest and prune went by backup.json's
// time (and the name of a pruned backup was given again, sorting first).
func TestBackupOrder(t *testing.T) {
	tests := []struct {
		name  string
		hours []int // when each run is, after made
		keep  int
		older int // how many of the first runs an older certctl made (no seq)
		names []string
	}{
		{"clock set back", []int{10, 5}, 0, 0, []string{"20260301T200000Z", "20260301T150000Z"}},
		{"clock set back, then prune", []int{10, 5, 4}, 2, 0, []string{"20260301T150000Z", "20260301T140000Z"}},
		{"older certctl's backup dated later", []int{10, 5}, 0, 1, []string{"20260301T200000Z", "20260301T150000Z"}},
		{"one second, pruned to 2", []int{1, 1, 1, 1}, 2, 0, []string{"20260301T110000Z-003", "20260301T110000Z-004"}},
		{"one second, pruned to 1", []int{1, 1, 1}, 1, 0, []string{"20260301T110000Z-003"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, nil)
			root, _ := BackupRoot(n.certDir())
			var last string
			for i, h := range tc.hours {
				res, err := Renew(context.Background(), n.targets(t, "admin.conf"), n.options(made.Add(time.Duration(h)*time.Hour)))
				if err != nil {
					t.Fatal(err)
				}
				last = res.BackupDir
				if i < tc.older {
					editManifest(t, last, func(m *BackupManifest) { m.Seq = 0 })
				}
				if _, _, _, err := PruneBackupsAfter(n.certDir(), tc.keep, last); err != nil {
					t.Fatal(err)
				}
			}
			latest, err := FindBackup(root, "latest")
			if err != nil || latest != last {
				t.Errorf("latest = %s, %v; want the last run's %s", latest, err, last)
			}
			backups, err := ListBackups(root)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, b := range backups {
				names = append(names, b.Name)
			}
			if !slices.Equal(names, tc.names) {
				t.Errorf("backups oldest first %q, want %q", names, tc.names)
			}
			if filepath.Base(last) != tc.names[len(tc.names)-1] {
				t.Errorf("the last run's backup is %s, want %s", filepath.Base(last), tc.names[len(tc.names)-1])
			}
		})
	}
}

// TestBackupCopyOfNewest: a copy the user named of the newest backup
// (certctl-backups/pre-upgrade) has its seq and its time, and is not
// latest: the backup certctl made is, as docs/cron.md says.
func TestBackupCopyOfNewest(t *testing.T) {
	n := newNode(t, nil)
	root, _ := BackupRoot(n.certDir())
	res, err := Renew(context.Background(), n.targets(t, "admin.conf"), n.options(made.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	copyTree(t, res.BackupDir, filepath.Join(root, "pre-upgrade"))
	if latest, err := FindBackup(root, "latest"); err != nil || latest != res.BackupDir {
		t.Errorf("latest = %s, %v; want %s", latest, err, res.BackupDir)
	}
}
