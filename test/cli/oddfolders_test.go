package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/treetest"
)

// TestEtcdFolderIsAFile: a pki/etcd that is a regular file makes every
// command that reads or writes the folder exit 1 with one line that names
// it and says to move it away, and changes nothing. Recovery said only
// "read directory DIR/etcd: open DIR/etcd: not a directory".
func TestEtcdFolderIsAFile(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	etcd := filepath.Join(n.certDir, "etcd")
	if err := os.RemoveAll(etcd); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(etcd, []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, n.dir)
	want := etcd + " is a file, not a folder: move it away"
	for _, args := range [][]string{
		{"renew", "all"}, {"check-expiration"}, {"restore"}, {"init-phase", "certs", "all"}, {"init-phase", "kubeconfig", "all"},
	} {
		code, out, errOut := runAll(t, nil, bin, append(args, n.flags()...)...)
		if code != 1 || !strings.Contains(errOut, "error: "+want) || strings.Count(errOut, "error:") != 1 {
			t.Errorf("%s: exit %d, want 1 and one line %q\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
	}
	after := treetest.Snapshot(t, n.dir)
	delete(before, lock.FileName)
	delete(after, lock.FileName)
	treetest.AssertSame(t, before, after)
}

// TestLockFileLink: a lock file that is a symbolic link to a file in
// another folder is refused, and the file it points to is left as it was:
// taking the lock truncated it and wrote certctl's PID into it.
func TestLockFileLink(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("precious\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	lockPath := filepath.Join(n.dir, lock.FileName)
	if err := os.Remove(lockPath); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, lockPath); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runAll(t, nil, bin, append([]string{"renew", "all"}, n.flags()...)...)
	if want := "error: lock file " + lockPath + " is a symbolic link to " + victim; code != 1 || !strings.Contains(errOut, want) {
		t.Errorf("renew all: exit %d, want 1 and %q\n%s%s", code, want, out, errOut)
	}
	if b, _ := os.ReadFile(victim); string(b) != "precious\n" {
		t.Errorf("the file the lock file links to now holds %q", b)
	}
}

// TestLinkedCertDirLock: with /etc/kubernetes/pki a link to /data/pki, a
// renewal given either name waits for the other: both take the lock
// beside /data/pki. Each took only the lock beside the name it was given.
func TestLinkedCertDirLock(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	real := filepath.Join(t.TempDir(), "data", "pki")
	if err := os.MkdirAll(filepath.Dir(real), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(n.certDir, real); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(real, n.certDir); err != nil {
		t.Fatal(err)
	}
	// Another certctl renewing with --cert-dir /data/pki.
	realLock := filepath.Join(filepath.Dir(real), lock.FileName)
	held, err := lock.AcquireWait(context.Background(), realLock, lock.Wait{})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	before := treetest.Snapshot(t, real)
	code, out, errOut := runAll(t, nil, bin, append([]string{"renew", "all", "--lock-timeout", "0"}, n.flags()...)...)
	if code == 0 || !strings.Contains(errOut, "holds the lock "+realLock) {
		t.Errorf("renew all through the link while the real folder's lock is held: exit %d, want it to refuse naming %s\n%s%s", code, realLock, out, errOut)
	}
	treetest.AssertSame(t, before, treetest.Snapshot(t, real))
	held.Release()
	run(t, bin, append([]string{"renew", "all"}, n.flags()...)...)
}

// TestCertDirLinkToNothing: /etc/kubernetes/pki a link to /data/pki on a
// volume that is not mounted. The commands say so in one line that names
// the link and its target, instead of "mkdir DIR: file exists" (init-phase
// certs) or "CA certificate DIR/ca.crt is missing" (init-phase kubeconfig),
// and create nothing behind the link. (renew is left out: it says the
// folder does not exist, phases/config.)
func TestCertDirLinkToNothing(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	unmounted := filepath.Join(t.TempDir(), "data", "pki")
	if err := os.RemoveAll(n.certDir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(unmounted, n.certDir); err != nil {
		t.Fatal(err)
	}
	want := "error: --cert-dir " + n.certDir + " is a symbolic link to " + unmounted + ", which does not exist: mount the volume that holds it, or correct the link"
	for _, args := range [][]string{
		{"check-expiration"}, {"restore"}, {"init-phase", "certs", "all"}, {"init-phase", "kubeconfig", "all"},
	} {
		code, out, errOut := runAll(t, nil, bin, append(args, n.flags()...)...)
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("%s: exit %d, want 1 and %q\n%s%s", strings.Join(args, " "), code, want, out, errOut)
		}
	}
	if _, err := os.Lstat(filepath.Dir(unmounted)); err == nil {
		t.Errorf("%s was created", filepath.Dir(unmounted))
	}
}
