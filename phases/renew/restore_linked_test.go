package renew

import (
	"bytes"
	"context"
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
