package renewal

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
)

// linkAway moves the node's file rel into shared and puts a symbolic link
// to it in its place, absolute or relative, as people do to share a file
// between two folders. It returns the link and the file.
func linkAway(t *testing.T, n *node, shared, rel string, relative bool) (link, file string) {
	t.Helper()
	link, file = n.path(rel), filepath.Join(shared, filepath.Base(rel))
	if err := os.Rename(link, file); err != nil {
		t.Fatal(err)
	}
	to := file
	if relative {
		var err error
		if to, err = filepath.Rel(filepath.Dir(link), file); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(to, link); err != nil {
		t.Fatal(err)
	}
	return link, file
}

// snapshotLinks is treetest.Snapshot, except that a symbolic link is
// recorded by where it points instead of followed: a dangling one cannot
// be read.
func snapshotLinks(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			to, err := os.Readlink(p)
			m[p] = "link " + to
			return err
		case d.IsDir():
			m[p] = "dir " + info.Mode().String()
			return nil
		}
		b, err := os.ReadFile(p)
		m[p] = fmt.Sprintf("%s %x", info.Mode(), sha256.Sum256(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRenewRefusesSymlinks: a certificate, key or kubeconfig file that is
// a symbolic link fails the renewal before anything is written, on disk
// and with an issuer (--use-api), named or in `all` (an error, not a
// skip), with one line naming the link and its target and what to do.
// certctl replaces files by rename, which would replace the link and
// leave the linked file old.
func TestRenewRefusesSymlinks(t *testing.T) {
	tests := []struct {
		name     string
		targets  []string
		rel      string // the file made a link
		relative bool
		issuer   bool
	}{
		{"certificate, absolute link", []string{"apiserver"}, "pki/apiserver.crt", false, false},
		{"key, relative link, in all", []string{"all"}, "pki/etcd/peer.key", true, false},
		{"kubeconfig, in all", []string{"all"}, "admin.conf", false, false},
		{"certificate, with an issuer", []string{"apiserver"}, "pki/apiserver.crt", true, true},
		{"key, with an issuer, in all", []string{"all"}, "pki/front-proxy-client.key", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNode(t, nil)
			shared := t.TempDir()
			link, file := linkAway(t, n, shared, tt.rel, tt.relative)
			to, err := os.Readlink(link)
			if err != nil {
				t.Fatal(err)
			}
			before, sharedBefore := treetest.Snapshot(t, n.Dir), treetest.Snapshot(t, shared)
			o := n.options(renewAt)
			o.SkipMissing = len(tt.targets) == 1 && tt.targets[0] == "all"
			var is *fakeIssuer
			if tt.issuer {
				is = newFakeIssuer(t, n, nil)
				o.Issuer = is
			}
			_, err = Renew(context.Background(), n.targets(t, tt.targets...), o)
			treetest.ErrMentions(t, err, link+" is a symbolic link to "+to, "replace the link by the file", file)
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
			treetest.AssertSame(t, sharedBefore, treetest.Snapshot(t, shared))
			if is != nil && is.reqs != nil {
				t.Errorf("the issuer was asked for %d certificate(s) before the link was refused", len(is.reqs))
			}
		})
	}
}

// TestRenewDanglingSymlink: a link to nothing is not a missing file that
// `all` skips: it is refused like any link.
func TestRenewDanglingSymlink(t *testing.T) {
	n := newNode(t, nil)
	link := n.path("pki/apiserver-kubelet-client.key")
	if err := os.Remove(link); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/nonexistent/apiserver-kubelet-client.key", link); err != nil {
		t.Fatal(err)
	}
	before := snapshotLinks(t, n.Dir)
	o := n.options(renewAt)
	o.SkipMissing = true
	_, err := Renew(context.Background(), n.targets(t, "all"), o)
	treetest.ErrMentions(t, err, link+" is a symbolic link to /nonexistent/apiserver-kubelet-client.key", "replace the link")
	treetest.AssertSame(t, before, snapshotLinks(t, n.Dir))
}

// TestRenewSymlinkedCertDir: a certificate folder that is itself a link
// (a node whose /etc/kubernetes/pki lives on another volume) works: the
// files in the folder it points to are replaced, the link stays, the
// backup, beside the link, holds regular files, and restoring it works.
func TestRenewSymlinkedCertDir(t *testing.T) {
	n := newNode(t, nil)
	real := filepath.Join(t.TempDir(), "pki")
	if err := os.Rename(n.certDir(), real); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, n.certDir()); err != nil {
		t.Fatal(err)
	}
	original := treetest.Snapshot(t, real)
	oldSerial := n.cert(t, "apiserver").SerialNumber

	res, err := Renew(context.Background(), n.targets(t, "all"), n.options(renewAt))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Renewed) != len(bases) {
		t.Errorf("renewed %d, want %d", len(res.Renewed), len(bases))
	}
	if st, err := os.Lstat(n.certDir()); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("the certificate folder link is gone: %v, %v", st, err)
	}
	if n.cert(t, "apiserver").SerialNumber.Cmp(oldSerial) == 0 {
		t.Error("apiserver.crt, read through the folder link, was not renewed")
	}
	if filepath.Dir(res.BackupDir) != filepath.Join(n.Dir, BackupDirName) {
		t.Errorf("backup in %s, want it in %s", res.BackupDir, filepath.Join(n.Dir, BackupDirName))
	}
	for _, rel := range []string{"pki/apiserver.crt", "pki/etcd/peer.key", "admin.conf"} {
		if st, err := os.Lstat(filepath.Join(res.BackupDir, rel)); err != nil || !st.Mode().IsRegular() {
			t.Errorf("backup file %s: %v, %v; want a regular file", rel, st, err)
		}
	}
	if _, err := Restore(res.BackupDir, n.restoreOptions(renewAt.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	treetest.AssertSame(t, original, treetest.Snapshot(t, real))
}

// TestBackupRefusesSymlinks: `certs import` backs up through Install,
// which refuses a link as renewal does, rather than saving the link.
func TestBackupRefusesSymlinks(t *testing.T) {
	n := newNode(t, nil)
	link, _ := linkAway(t, n, t.TempDir(), "pki/apiserver.crt", true)
	_, err := Install(n.certDir(), n.Dir, "", made, rand.Reader, []string{link}, nil, BackupNote{})
	treetest.ErrMentions(t, err, link+" is a symbolic link", "replace the link")
}

// TestRestoreRefusesSymlinks: a backup an older certctl took of a linked
// file holds the link, which no longer leads to the old content; and a
// target that is now a link would be replaced, not written through. Both
// are refused with every file as it was.
func TestRestoreRefusesSymlinks(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(t *testing.T, n *node, backup string) []string
	}{
		{"backup holds a dangling link", func(t *testing.T, n *node, backup string) []string {
			p := filepath.Join(backup, "pki", "apiserver.key")
			os.Remove(p)
			if err := os.Symlink("../../shared/apiserver.key", p); err != nil {
				t.Fatal(err)
			}
			return []string{"backup file " + p + " is a symbolic link to ../../shared/apiserver.key", "restore another backup"}
		}},
		{"backup holds a link to the new file", func(t *testing.T, n *node, backup string) []string {
			p := filepath.Join(backup, "pki", "apiserver.crt")
			os.Remove(p)
			if err := os.Symlink(n.path("pki/apiserver.crt"), p); err != nil {
				t.Fatal(err)
			}
			return []string{"backup file " + p + " is a symbolic link to " + n.path("pki/apiserver.crt")}
		}},
		{"target is a link", func(t *testing.T, n *node, backup string) []string {
			link, file := linkAway(t, n, t.TempDir(), "pki/apiserver.key", false)
			return []string{link + " is a symbolic link to " + file, "replace the link"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNode(t, nil)
			res, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			want := tt.breakIt(t, n, res.BackupDir)
			before := snapshotLinks(t, n.Dir)
			_, err = Restore(res.BackupDir, n.restoreOptions(made.Add(2*time.Hour)))
			treetest.ErrMentions(t, err, want...)
			treetest.AssertSame(t, before, snapshotLinks(t, n.Dir))
		})
	}
}
