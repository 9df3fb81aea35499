package renewal

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestPruneKeepsAnotherFoldersBackups: the certificate folders of one
// parent keep their backups side by side, in the one certctl-backups
// beside them. --keep-backups 1 on one folder removed the other's only
// backup; it counts and removes its own folder's backups only.
func TestPruneKeepsAnotherFoldersBackups(t *testing.T) {
	n := newNode(t, nil)
	other := n.path("pki2")
	copyTree(t, n.certDir(), other)
	otherKubeconfigs := n.path("other")
	if err := os.Mkdir(otherKubeconfigs, 0o700); err != nil {
		t.Fatal(err)
	}
	o := n.options(made.Add(time.Hour))
	o.CertDir, o.KubeconfigDir = other, otherKubeconfigs
	theirs, err := Renew(context.Background(), n.targets(t, "apiserver"), o)
	if err != nil {
		t.Fatal(err)
	}
	var ours []string
	for i := range 2 {
		res, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(time.Duration(i+2)*time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		ours = append(ours, res.BackupDir)
	}
	if filepath.Dir(theirs.BackupDir) != filepath.Dir(ours[0]) {
		t.Fatalf("the backups are in %s and %s, want one folder", theirs.BackupDir, ours[0])
	}
	removed, _, err := PruneBackups(n.certDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(removed, ours[:1]) {
		t.Errorf("--keep-backups 1 removed %q, want only %s", removed, ours[0])
	}
	if _, err := os.Stat(filepath.Join(theirs.BackupDir, BackupManifestName)); err != nil {
		t.Errorf("the other folder's backup was removed: %v", err)
	}
}

// TestLatestIsThisFoldersBackup: `restore latest` took the newest backup
// beside the certificate folder, which may be another folder's of the
// same parent; Restore then refused it. "latest" is this folder's newest,
// and with none of its own the error names the others.
func TestLatestIsThisFoldersBackup(t *testing.T) {
	n := newNode(t, nil)
	other := n.path("pki2")
	copyTree(t, n.certDir(), other)
	otherKubeconfigs := n.path("other")
	if err := os.Mkdir(otherKubeconfigs, 0o700); err != nil {
		t.Fatal(err)
	}
	root, err := BackupRoot(n.certDir())
	if err != nil {
		t.Fatal(err)
	}
	o := n.options(made.Add(time.Hour))
	o.CertDir, o.KubeconfigDir = other, otherKubeconfigs
	if _, err := Renew(context.Background(), n.targets(t, "apiserver"), o); err != nil {
		t.Fatal(err)
	}
	if _, err := FindBackupIn([]string{root}, n.certDir(), "latest"); err == nil || !strings.Contains(err.Error(), "no backup of "+n.certDir()) || !strings.Contains(err.Error(), "of "+other) {
		t.Errorf("latest with only another folder's backup: %v, want no backup of this folder, naming the other's", err)
	}
	ours, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(2*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	o.Now = func() time.Time { return made.Add(3 * time.Hour) }
	if _, err := Renew(context.Background(), n.targets(t, "apiserver"), o); err != nil {
		t.Fatal(err)
	}
	if got, err := FindBackupIn([]string{root}, n.certDir(), "latest"); err != nil || got != ours.BackupDir {
		t.Errorf("latest = %s, %v; want this folder's newest %s, not the other folder's newer one", got, err, ours.BackupDir)
	}
}
