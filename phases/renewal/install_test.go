package renewal

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
)

func TestInstallBacksUp(t *testing.T) {
	n := newNode(t, nil)
	root := filepath.Join(n.Dir, BackupDirName)
	paths := []string{n.path("pki/etcd/server.crt"), n.path("admin.conf")}
	dir, err := Install(n.certDir(), n.Dir, "", made, rand.Reader, paths, nil, BackupNote{})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(dir) != root {
		t.Fatalf("backup %s, want one in %s", dir, root)
	}
	m, err := ReadBackupManifest(dir)
	if err != nil || len(m.Files) != 2 {
		t.Fatalf("manifest %+v, %v; want 2 files", m, err)
	}
	for i, want := range []struct {
		rel  string
		mode os.FileMode
	}{{"pki/etcd/server.crt", 0o644}, {"admin.conf", 0o600}} {
		if m.Files[i].Backup != want.rel {
			t.Errorf("file %d goes to %s, want %s", i, m.Files[i].Backup, want.rel)
		}
		st, err := os.Stat(filepath.Join(dir, want.rel))
		old, oerr := os.Stat(paths[i])
		if err != nil || oerr != nil || st.Mode().Perm() != want.mode || !os.SameFile(st, old) {
			t.Errorf("backup of %s: %v, %v; want a hard link with mode %o", paths[i], st, err, want.mode)
		}
	}
	outside := filepath.Join(t.TempDir(), "x.crt")
	os.WriteFile(outside, []byte("x"), 0o644)
	if _, err := Install(n.certDir(), n.Dir, "", made, rand.Reader, []string{outside}, nil, BackupNote{}); err == nil {
		t.Error("a file outside both folders was backed up")
	}
}
