package apirenew

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPendingFolderOthersMayWrite: the pending-key folder keeps the key
// of each CSR not installed yet, and a later run sends its CSR again with
// that key. One that other users may write (a chmod 777) let them put a
// key of theirs there, whose certificate the API then issued and certctl
// installed: they would hold the new apiserver.key. It is refused, as the
// transaction folder is, before anything is read or sent.
func TestPendingFolderOthersMayWrite(t *testing.T) {
	p := pending{dir: filepath.Join(t.TempDir(), PendingDirName)}
	if err := os.Mkdir(p.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := p.check(); err != nil {
		t.Fatalf("a 0700 folder: %v", err)
	}
	if err := os.Chmod(p.dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := p.check(); err == nil || !strings.Contains(err.Error(), "chmod 700 "+p.dir) {
		t.Errorf("check of a 0777 pending-key folder = %v, want it refused, saying chmod 700 %s", err, p.dir)
	}
}
