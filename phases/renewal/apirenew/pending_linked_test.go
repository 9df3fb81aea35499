package apirenew

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPendingDirLinkKept: a pending-key folder that is a symbolic link
// (to a folder on another disk) is used as the folder it names; once a
// key was removed from it, "remove the folder if empty" removed the
// link itself, since unlink succeeds on a link whatever its target
// holds: the keys left in the target were then out of sight, and the
// next --use-api run made new keys and CSRs. Only an empty real folder
// is removed.
func TestPendingDirLinkKept(t *testing.T) {
	root := t.TempDir()
	target := filepath.Join(root, "elsewhere")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	certDir := filepath.Join(root, "pki")
	if err := os.Mkdir(certDir, 0o700); err != nil {
		t.Fatal(err)
	}
	dir, err := PendingDir(certDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, dir); err != nil {
		t.Fatal(err)
	}
	p := pending{dir: dir}
	k1, k2 := newKey(t), newKey(t)
	if err := p.save("apiserver", k1); err != nil {
		t.Fatal(err)
	}
	if err := p.save("admin.conf", k2); err != nil {
		t.Fatal(err)
	}
	if err := p.remove("apiserver", k1.Public()); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(dir); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("pending-key folder link %s: %v, %v; want it kept while admin.conf's key is there", dir, fi, err)
	}
	RemoveEmptyPendingDir(certDir)
	if k, err := p.load("admin.conf"); err != nil || k == nil {
		t.Fatalf("admin.conf's pending key after RemoveEmptyPendingDir: %v, %v", k, err)
	}
	// Empty, the link stays too: it is the user's, not certctl's.
	if err := p.remove("admin.conf", k2.Public()); err != nil {
		t.Fatal(err)
	}
	RemoveEmptyPendingDir(certDir)
	if _, err := os.Lstat(dir); err != nil {
		t.Errorf("pending-key folder link %s removed: %v", dir, err)
	}
}

// TestPendingDirLinkParents: a pending-key folder that is a link to a
// folder whose parent other users may write was used: they could put a
// folder of their own, with a key of theirs, in its place. It is refused
// now, before anything is read or written, naming that parent.
func TestPendingDirLinkParents(t *testing.T) {
	root := t.TempDir()
	mount := filepath.Join(root, "mnt")
	target := filepath.Join(mount, "elsewhere")
	if err := os.MkdirAll(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(mount, 0o777); err != nil {
		t.Fatal(err)
	}
	dir, err := PendingDir(filepath.Join(root, "pki"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, dir); err != nil {
		t.Fatal(err)
	}
	err = pending{dir: dir}.check()
	if err == nil || !strings.Contains(err.Error(), "pending-key folder "+dir+" is a symbolic link to "+target+", inside "+mount+", which is mode 0777") {
		t.Errorf("check = %v; want the link's target's parent %s refused", err, mount)
	}
}
