package renew

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/renewal"
)

// TestRestoreBesideTheLink: a renewal given /etc/kubernetes/pki, a link
// to /data/pki, keeps its backup beside the link's name; `restore latest`
// or `restore NAME` given /data/pki looked only beside that name and
// said there was no backup, although `restore` lists it (ListBackups).
// Both find it beside either name; given the other name, the restore is
// refused in one line that says which --cert-dir to run it with (its
// files are named by the name the backup was taken of), and given the
// link it restores.
func TestRestoreBesideTheLink(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	link := n.Cluster.CertificatesDir
	real := treetest.BehindLink(t, link)
	now := func() time.Time { return pkitest.Made.Add(2 * time.Hour) }
	var out bytes.Buffer
	o := Options{Cluster: n.Cluster, KubeconfigDir: n.Dir, Args: []string{"apiserver"}, LockTimeout: time.Second, Now: now, Out: &out, ErrOut: &out}
	if err := Run(context.Background(), o); err != nil {
		t.Fatalf("renew through the link: %v\n%s", err, out.String())
	}
	root, err := renewal.BackupRoot(link)
	if err != nil {
		t.Fatal(err)
	}
	backups, err := renewal.ListBackups(root)
	if err != nil || len(backups) != 1 {
		t.Fatalf("backups beside the link: %v, %v", backups, err)
	}
	cluster := *n.Cluster
	cluster.CertificatesDir = real
	for _, name := range []string{"latest", backups[0].Name} {
		out.Reset()
		o := Options{Cluster: &cluster, KubeconfigDir: n.Dir, DryRun: true, LockTimeout: time.Second, Now: now, Out: &out, ErrOut: &out}
		err := Restore(context.Background(), o, name)
		if err == nil || !strings.Contains(err.Error(), backups[0].Dir) || !strings.Contains(err.Error(), "run the restore with --cert-dir "+link) {
			t.Errorf("restore %s given %s: %v, want the backup %s found and the --cert-dir to run it with\n%s", name, real, err, backups[0].Dir, out.String())
		}
		out.Reset()
		o.Cluster = n.Cluster
		if err := Restore(context.Background(), o, name); err != nil || !strings.Contains(out.String(), backups[0].Dir) {
			t.Errorf("restore %s given %s: %v, want %s restored\n%s", name, link, err, backups[0].Dir, out.String())
		}
	}
}

// TestBackupNamesBesideTheLink: completion offered only the backups beside
// the name given, while restore finds those beside the folder a link
// points to as well.
func TestBackupNamesBesideTheLink(t *testing.T) {
	etc, link, real := treetest.LinkedFolder(t)
	dir := filepath.Join(filepath.Dir(real), "certctl-backups", "20261206T110000Z")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	m := `{"version":1,"created":"2026-12-06T11:00:00Z","certDir":"` + real + `","kubeconfigDir":"` + etc + `","files":[]}`
	if err := os.WriteFile(filepath.Join(dir, "backup.json"), []byte(m), 0o600); err != nil {
		t.Fatal(err)
	}
	if got := BackupNames(link); !slices.Contains(got, "20261206T110000Z") {
		t.Errorf("BackupNames(%s) = %v, want the backup beside %s", link, got, real)
	}
}
