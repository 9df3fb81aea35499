package manifests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestReplaceRefusesSymlink: a manifest that is a symbolic link (a node whose
// manifests come from configuration management, linked into the kubelet's
// folder) is refused with one error naming the link, its target and what to
// do, and nothing is written: no backup, the link still a link, its target as
// it was. Renaming the new manifest over the link would replace the link by a
// file and leave the linked file old, as certctl refuses for certificates
// (internal/txn.Replaceable) and for kube-controller-manager's manifest in a
// CA rotation.
func TestReplaceRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	manifests, real := filepath.Join(dir, "manifests"), filepath.Join(dir, "real")
	for _, d := range []string{manifests, real} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	target := filepath.Join(real, "kcm.yaml")
	if err := os.WriteFile(target, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(manifests, "kube-controller-manager.yaml")
	if err := os.Symlink("../real/kcm.yaml", path); err != nil {
		t.Fatal(err)
	}
	backups := BackupDir(path, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	_, err := Replace(path, []byte("old\n"), []byte("new\n"), backups)
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "symbolic link") || !strings.Contains(err.Error(), "../real/kcm.yaml") {
		t.Errorf("Replace on a symbolic link: err = %v, want an error naming the link %s and its target", err, path)
	}
	if st, err := os.Lstat(path); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a symbolic link (%v, %v)", path, st, err)
	}
	if got, _ := os.ReadFile(target); string(got) != "old\n" {
		t.Errorf("the link's target = %q, want it unchanged", got)
	}
	if _, err := os.Stat(backups); !os.IsNotExist(err) {
		t.Errorf("a refused Replace created the backup folder %s (%v)", backups, err)
	}
}
