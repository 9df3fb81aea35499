package renewal

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// copyTree copies every regular file of src over the same path under dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if strings.Contains(rel, BackupDirName) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestRestoreRefusesLeavesOfAnotherCA: a backup taken before the CAs changed
// (made again, or rotated) holds leaves that the CAs on disk did not sign.
// Restoring it wrote them back without a word, and every client that trusts
// ca.crt then rejected the API server, etcd and the kubeconfigs: a locked-out
// control plane after `restore latest --restart-control-plane`. Restore (and
// its dry run) must refuse, naming the file and the CA, and change nothing.
func TestRestoreRefusesLeavesOfAnotherCA(t *testing.T) {
	n := newNode(t, nil)
	first, err := Renew(context.Background(), n.targets(t, "all"), n.options(made.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	cas := []string{"pki/ca.crt", "pki/front-proxy-ca.crt", "pki/etcd/ca.crt"}
	oldCAs := map[string][]byte{}
	for _, ca := range cas {
		oldCAs[ca] = read(t, n.path(ca))
	}
	copyTree(t, newNode(t, nil).Dir, n.Dir) // the node's PKI, all of it, from other CAs
	before := treetest.Snapshot(t, n.Dir)

	for _, dry := range []bool{true, false} {
		o := n.restoreOptions(made.Add(2 * time.Hour))
		o.DryRun = dry
		_, err := Restore(first.BackupDir, o)
		if err == nil {
			t.Fatalf("dry run %v: restored leaves that the CAs on disk did not sign", dry)
		}
		for _, want := range []string{"is not signed by the CA " + n.path("pki/ca.crt"), "nothing restored"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("dry run %v: error %q does not say %q", dry, err, want)
			}
		}
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))

	// CA files that hold the old CAs too (bundles, as during a rotation)
	// still trust the backup's leaves: the restore goes ahead.
	for _, ca := range cas {
		write(t, n.path(ca), append(read(t, n.path(ca)), oldCAs[ca]...))
	}
	if _, err := Restore(first.BackupDir, n.restoreOptions(made.Add(3*time.Hour))); err != nil {
		t.Fatalf("restore with CA bundles that hold the old CAs: %v", err)
	}
}

// TestRestoreDamagedBackupSaysWhatToDo: a backup whose file is missing or is
// a FIFO failed with "read backup file: open FILE: no such file or
// directory", without saying that nothing was restored or what to do (the
// FIFO's "replace it with the file certctl expects" pointed at the backup,
// which cannot be made again). It must name the file, say nothing was
// restored, and point to another backup, and change nothing.
func TestRestoreDamagedBackupSaysWhatToDo(t *testing.T) {
	for _, damage := range []string{"missing", "fifo"} {
		t.Run(damage, func(t *testing.T) {
			n := newNode(t, nil)
			first, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(first.BackupDir, "pki", "apiserver.key")
			if err := os.Remove(p); err != nil {
				t.Fatal(err)
			}
			if damage == "fifo" {
				treetest.FIFO(t, p)
			}
			before := treetest.Snapshot(t, n.Dir)
			_, err = Restore(first.BackupDir, n.restoreOptions(made.Add(2*time.Hour)))
			treetest.ErrMentions(t, err, p, "nothing restored", "restore another backup")
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
		})
	}
}

// TestBackupNamedByHand: a copy of a backup that the user named
// (certctl-backups/pre-upgrade, to keep it) sorts after every timestamp.
// `restore latest` picked it instead of the last renewal's backup, and
// --keep-backups 1 kept it as "the newest" and removed the backup the run had
// just made. latest must be the newest backup by its creation time, and
// pruning must keep the newest of certctl's own backups and leave a folder
// the user named alone.
func TestBackupNamedByHand(t *testing.T) {
	n := newNode(t, nil)
	root, _ := BackupRoot(n.certDir())
	first, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	copyTree(t, first.BackupDir, filepath.Join(root, "pre-upgrade"))
	second, err := Renew(context.Background(), n.targets(t, "admin.conf"), n.options(made.Add(2*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if latest, err := FindBackup(root, "latest"); err != nil || latest != second.BackupDir {
		t.Errorf("FindBackup(latest) = %s, %v; want the last renewal's %s", latest, err, second.BackupDir)
	}
	removed, left, err := PruneBackups(n.certDir(), 1)
	if err != nil || left != nil {
		t.Fatal(err, left)
	}
	if !slices.Equal(removed, []string{first.BackupDir}) {
		t.Errorf("--keep-backups 1 removed %q, want only %s", removed, first.BackupDir)
	}
	for _, d := range []string{second.BackupDir, filepath.Join(root, "pre-upgrade")} {
		if _, err := os.Stat(filepath.Join(d, BackupManifestName)); err != nil {
			t.Errorf("%s was removed: %v", d, err)
		}
	}
}

// TestRestoreRefusesExpiredCertificates: a renewal's backup holds the
// certificates it replaced, which were about to expire; restored after they
// did, they silently replaced valid ones (exit 0), and every client then
// rejected the component. Restore and its dry run must refuse, naming the
// file and when it expired, and change nothing.
func TestRestoreRefusesExpiredCertificates(t *testing.T) {
	n := newNode(t, nil)
	first, err := Renew(context.Background(), n.targets(t, "apiserver", "admin.conf"), n.options(made.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	saved, _, err := pki.ReadCertFile(filepath.Join(first.BackupDir, "pki", "apiserver.crt"))
	if err != nil {
		t.Fatal(err)
	}
	expired := saved.NotAfter // the renewed ones are valid an hour longer
	before := treetest.Snapshot(t, n.Dir)
	for _, dry := range []bool{true, false} {
		o := n.restoreOptions(expired.Add(time.Minute))
		o.DryRun = dry
		_, err := Restore(first.BackupDir, o)
		treetest.ErrMentions(t, err, "expired on", "nothing restored", "certctl renew")
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
}
