package manifests

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReplace(t *testing.T) {
	dir := t.TempDir()
	manifests := filepath.Join(dir, "manifests")
	if err := os.Mkdir(manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(manifests, "kube-controller-manager.yaml")
	if err := os.WriteFile(path, []byte("old\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	backups := BackupDir(path, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	if want := filepath.Join(dir, "tmp", "certctl-backup-manifests-2026-03-01-12-00-00"); backups != want {
		t.Errorf("BackupDir = %s, want %s", backups, want)
	}
	if _, err := Replace(path, []byte("stale\n"), []byte("new\n"), backups); err == nil || !strings.Contains(err.Error(), "changed while") {
		t.Errorf("Replace with stale content: err = %v", err)
	}
	if _, err := Replace(path, []byte("old\n"), []byte("new\n"), manifests); err == nil || !strings.Contains(err.Error(), "kubelet would run the backup") {
		t.Errorf("Replace with the backup in the manifest folder: err = %v", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old\n" {
		t.Fatalf("a refused Replace wrote %q", got)
	}
	backup, err := Replace(path, []byte("old\n"), []byte("new\n"), backups)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "new\n" {
		t.Errorf("manifest = %q", got)
	}
	if got, _ := os.ReadFile(backup); string(got) != "old\n" {
		t.Errorf("backup = %q", got)
	}
	for _, p := range []string{path, backup} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600 kept", p, st.Mode(), err)
		}
	}
	if entries, _ := os.ReadDir(manifests); len(entries) != 1 {
		t.Errorf("the manifest folder holds %d entries, want 1", len(entries))
	}
}

// TestReplaceKeepsEarlierBackup: two edits of the same manifest in the
// same second (signer disable, then signer enable, from a script) get the
// same default backup folder. The second must not overwrite the first
// one's backup: the path the first run printed must still hold the
// manifest it replaced, and the second's backup its own old content.
func TestReplaceKeepsEarlierBackup(t *testing.T) {
	dir := t.TempDir()
	manifests := filepath.Join(dir, "manifests")
	if err := os.Mkdir(manifests, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(manifests, "kube-controller-manager.yaml")
	if err := os.WriteFile(path, []byte("original\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	backups := BackupDir(path, time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	first, err := Replace(path, []byte("original\n"), []byte("second\n"), backups)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Replace(path, []byte("second\n"), []byte("third\n"), backups)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(first); string(got) != "original\n" {
		t.Errorf("first backup %s = %q after a second Replace in the same folder, want %q", first, got, "original\n")
	}
	if got, _ := os.ReadFile(second); string(got) != "second\n" {
		t.Errorf("second backup %s = %q, want %q", second, got, "second\n")
	}
	if first == second {
		t.Errorf("both backups are %s", first)
	}
	// The same old content again (a re-run that changed nothing in
	// between) does not pile up copies: its backup is the one there.
	if err := os.WriteFile(path, []byte("second\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := Replace(path, []byte("second\n"), []byte("third\n"), backups)
	if err != nil {
		t.Fatal(err)
	}
	if again != second {
		t.Errorf("backup of the same content = %s, want the existing %s", again, second)
	}
	if got, _ := os.ReadFile(path); string(got) != "third\n" {
		t.Errorf("manifest = %q", got)
	}
}
