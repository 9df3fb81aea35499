package renewal

import (
	"context"
	"os"
	"path/filepath"
	"slices"
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
