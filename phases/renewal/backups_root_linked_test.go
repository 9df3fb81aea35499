package renewal

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
)

// TestLinkedBackupRoot: certctl-backups itself may be a symbolic link, to
// a folder on a bigger disk (docs/renew.md, "Backups"): only root can put
// it beside the certificate folder, and the folder it leads to is checked
// as certctl-backups is (certdir.CheckPrivate, through the link). The
// backups are written there, listed, restored as latest, and pruned;
// where it leads to a folder other users may write, a renewal is refused
// with nothing changed. A backup folder inside it that is a link is still
// refused (TestLinkedBackupFolder): that one is a folder certctl made,
// swapped for a link.
func TestLinkedBackupRoot(t *testing.T) {
	n := newNode(t, nil)
	root, err := BackupRoot(n.certDir())
	if err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(t.TempDir(), "certctl-backups")
	if err := os.Mkdir(disk, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(disk, root); err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for i := range 2 {
		res, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(time.Duration(i+1)*time.Hour)))
		if err != nil {
			t.Fatalf("renew with certctl-backups a link: %v", err)
		}
		if filepath.Dir(res.BackupDir) != root {
			t.Fatalf("backup in %s, want in %s", res.BackupDir, root)
		}
		if _, err := os.Stat(filepath.Join(disk, filepath.Base(res.BackupDir), BackupManifestName)); err != nil {
			t.Fatalf("the backup is not in the folder the link leads to: %v", err)
		}
		dirs = append(dirs, res.BackupDir)
	}
	backups, err := ListBackups(root)
	if err != nil || len(backups) != 2 || backups[1].Err != nil {
		t.Fatalf("ListBackups = %+v, %v; want the 2 backups, complete", backups, err)
	}
	latest, err := FindBackup(root, "latest")
	if err != nil || latest != dirs[1] {
		t.Fatalf("latest = %s, %v; want %s", latest, err, dirs[1])
	}
	if _, err := Restore(latest, n.restoreOptions(made.Add(3*time.Hour))); err != nil {
		t.Fatalf("restore latest: %v", err)
	}
	removed, _, err := PruneBackups(n.certDir(), 1)
	if err != nil || len(removed) != 2 {
		t.Errorf("prune to 1 removed %q, %v; want the 2 oldest of 3", removed, err)
	}
	if _, err := os.Lstat(root); err != nil {
		t.Errorf("the link: %v", err)
	}

	if err := os.Chmod(disk, 0o777); err != nil {
		t.Fatal(err)
	}
	snap := treetest.Snapshot(t, n.certDir())
	_, err = Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(4*time.Hour)))
	treetest.ErrMentions(t, err, root, "mode 0777")
	treetest.AssertSame(t, snap, treetest.Snapshot(t, n.certDir()))
}

// TestLinkedBackupRootParents: the folders above the one a linked
// certctl-backups leads to were not checked, and one that other users may
// write lets them put a folder of their own in its place after the check:
// a renewal saved its backup there, and `restore latest` restored from it.
// Both are now refused, naming that folder, with nothing changed.
func TestLinkedBackupRootParents(t *testing.T) {
	n := newNode(t, nil)
	root, err := BackupRoot(n.certDir())
	if err != nil {
		t.Fatal(err)
	}
	mount := t.TempDir()
	disk := filepath.Join(mount, "certctl-backups")
	if err := os.Mkdir(disk, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(disk, root); err != nil {
		t.Fatal(err)
	}
	if _, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(mount, 0o777); err != nil {
		t.Fatal(err)
	}
	snap := treetest.Snapshot(t, n.certDir())
	_, err = Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(2*time.Hour)))
	treetest.ErrMentions(t, err, root, "inside "+mount+", which is mode 0777", "chmod go-w "+mount)
	treetest.AssertSame(t, snap, treetest.Snapshot(t, n.certDir()))
	got, err := FindBackup(root, "latest")
	treetest.ErrMentions(t, err, root, "inside "+mount+", which is mode 0777")
	if got != "" {
		t.Errorf("latest = %s through a folder others may write", got)
	}
}
