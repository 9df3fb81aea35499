package renewal

import (
	"os"
	"path/filepath"
	"testing"
)

func TestBackupFiles(t *testing.T) {
	n := newNode(t, nil)
	root := filepath.Join(n.Dir, BackupDirName)
	paths := []string{n.path("pki/etcd/server.crt"), n.path("admin.conf")}
	dir, files, err := BackupFiles(root, made, n.certDir(), n.Dir, paths)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(dir) != root || len(files) != 3 {
		t.Fatalf("backup %s with %d files, want one in %s with 3", dir, len(files), root)
	}
	for i, want := range []string{"pki/etcd/server.crt", "admin.conf", BackupManifestName} {
		if files[i].Target != filepath.Join(dir, want) {
			t.Errorf("file %d goes to %s, want %s", i, files[i].Target, filepath.Join(dir, want))
		}
	}
	if files[0].LinkFrom != paths[0] || files[0].Mode != 0o644 || files[1].Mode != 0o600 {
		t.Errorf("files = %+v", files[:2])
	}
	outside := filepath.Join(t.TempDir(), "x.crt")
	os.WriteFile(outside, []byte("x"), 0o644)
	if _, _, err := BackupFiles(root, made, n.certDir(), n.Dir, []string{outside}); err == nil {
		t.Error("a file outside both folders was backed up")
	}
}
