package renewal

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
)

// TestLinkedBackupFolder: a folder of certctl-backups that is a symbolic
// link follows one rule, listed or named: listed as not a complete backup
// (restored and pruned by no one), refused by name, by path and as
// latest, with every file as it was; the folder it leads to, given by its
// own path as the error says, restores. Before, the list left it out and
// restore by name followed it to wherever it pointed.
func TestLinkedBackupFolder(t *testing.T) {
	n := newNode(t, nil)
	res, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(res.BackupDir)
	elsewhere := filepath.Join(t.TempDir(), "kept")
	if err := os.Rename(res.BackupDir, elsewhere); err != nil {
		t.Fatal(err)
	}
	const name = "20990101T000000Z" // certctl's kind of name, the newest
	link := filepath.Join(root, name)
	if err := os.Symlink(elsewhere, link); err != nil {
		t.Fatal(err)
	}

	backups, err := ListBackups(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(backups) != 1 || backups[0].Name != name || backups[0].Err == nil {
		t.Fatalf("ListBackups = %+v, want %s listed as not a backup", backups, name)
	}
	treetest.ErrMentions(t, backups[0].Err, "symbolic link to "+elsewhere)

	for _, arg := range []string{name, link, link + "/", "latest"} {
		t.Run(arg, func(t *testing.T) {
			snap := treetest.Snapshot(t, n.certDir()) // n.Dir holds the link, which Snapshot refuses
			dir, err := FindBackup(root, arg)
			if err == nil {
				_, err = Restore(dir, n.restoreOptions(made.Add(2*time.Hour)))
			}
			treetest.ErrMentions(t, err, link, "symbolic link to "+elsewhere, "certctl restore "+elsewhere)
			treetest.AssertSame(t, snap, treetest.Snapshot(t, n.certDir()))
		})
	}
	if _, err := Restore(elsewhere, n.restoreOptions(made.Add(2*time.Hour))); err != nil {
		t.Errorf("restore of the folder the link leads to: %v", err)
	}
}

// TestNotPrunedLinkedBackup: what a prune says of a backup certctl named
// that is a symbolic link is to remove the link, not to repair a
// backup.json it has none of its own.
func TestNotPrunedLinkedBackup(t *testing.T) {
	n := newNode(t, nil)
	root, _ := BackupRoot(n.certDir())
	if err := os.MkdirAll(root, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(root, "20990101T000000Z")
	if err := os.Symlink(t.TempDir(), link); err != nil {
		t.Fatal(err)
	}
	_, _, damaged, err := PruneBackupsAfter(n.certDir(), 2, "")
	if err != nil || len(damaged) != 1 || damaged[0].Dir != link {
		t.Fatalf("PruneBackupsAfter's damaged = %+v, %v; want %s", damaged, err, link)
	}
	msg := NotPruned(damaged[0], 2)
	if !strings.Contains(msg, "rm "+link) || strings.Contains(msg, "repair its") {
		t.Errorf("NotPruned = %q, want it to say rm %s", msg, link)
	}
}
