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

// TestAnotherFoldersDamagedBackup: a damaged backup of another certificate
// folder of the same parent, beside this one's, was warned of by this
// folder's prune at each renewal too, and `restore latest` of this folder
// refused to pass over it when it was the newest. When its backup.json
// still names its folder (one of another version, or damaged after
// certDir), it is that folder's alone; one that names none is still
// everyone's, since it cannot be told whose it is, and each folder's
// refusal and prune said so as though it were its own: they now name the
// folders whose backups lie beside it, any of which it may be of.
func TestAnotherFoldersDamagedBackup(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
		theirs bool // known to be the other folder's
	}{
		{"another version", func(m []byte) []byte { return []byte(strings.Replace(string(m), `"version": 1`, `"version": 2`, 1)) }, true},
		{"cut after certDir", func(m []byte) []byte {
			i := strings.Index(string(m), `"kubeconfigDir"`)
			return m[:i]
		}, true},
		{"names none", func([]byte) []byte { return []byte("{") }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, nil)
			other := n.path("pki2")
			copyTree(t, n.certDir(), other)
			otherKubeconfigs := n.path("other")
			if err := os.Mkdir(otherKubeconfigs, 0o700); err != nil {
				t.Fatal(err)
			}
			root, _ := BackupRoot(n.certDir())
			ours, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			o := n.options(made.Add(2 * time.Hour))
			o.CertDir, o.KubeconfigDir = other, otherKubeconfigs
			theirs, err := Renew(context.Background(), n.targets(t, "apiserver"), o)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(theirs.BackupDir, BackupManifestName)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, tc.damage(data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, damaged, err := PruneBackupsAfter(n.certDir(), 5, "")
			if err != nil {
				t.Fatal(err)
			}
			got, warnings, err := FindBackupWarn([]string{root}, n.certDir(), "latest")
			if tc.theirs {
				if len(damaged) != 0 {
					t.Errorf("our prune warns of their damaged backup %s", damaged[0].Dir)
				}
				if err != nil || got != ours.BackupDir || len(warnings) != 0 {
					t.Errorf("our latest = %s, %q, %v; want %s, no warning", got, warnings, err, ours.BackupDir)
				}
			} else if len(damaged) != 1 || err == nil {
				t.Errorf("a damaged backup that names no folder, the newest: our prune warns of %d, latest = %s, %v; want it warned of and latest refused", len(damaged), got, err)
			} else {
				whose := "names no certificate folder, and it may be a backup of any of " + strings.Join(slices.Sorted(slices.Values([]string{n.certDir(), other})), ", ")
				if !strings.Contains(err.Error(), whose) || !strings.Contains(NotPruned(damaged[0], 5), whose) {
					t.Errorf("latest's refusal %q and the prune's warning %q do not say %q", err, NotPruned(damaged[0], 5), whose)
				}
			}
			// Theirs still warns of it, and refuses latest.
			if _, _, damaged, _ := PruneBackupsAfter(other, 5, ""); len(damaged) != 1 {
				t.Errorf("their prune warns of %d damaged backups, want 1", len(damaged))
			}
			if got, err := FindBackupIn([]string{root}, other, "latest"); err == nil {
				t.Errorf("their latest = %s with their newest damaged; want an error", got)
			}
		})
	}
}
