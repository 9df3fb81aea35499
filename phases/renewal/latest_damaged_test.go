package renewal

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLatestRefusesToPassOverADamagedNewerBackup: `restore latest` took
// the newest backup whose backup.json could be read, so when the last
// run's was damaged (a power loss, an edit) it restored the backup of the
// run before, saying only its folder: at 3 a.m. that undoes the wrong
// renewal. It now refuses, naming the damaged backup and the one before
// it, which the user may restore by name; that one, named, is restored.
func TestLatestRefusesToPassOverADamagedNewerBackup(t *testing.T) {
	n := newNode(t, nil)
	root, err := BackupRoot(n.certDir())
	if err != nil {
		t.Fatal(err)
	}
	var dirs []string
	for i := range 2 {
		res, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(time.Duration(i+1)*time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, res.BackupDir)
	}
	if got, err := FindBackupIn([]string{root}, n.certDir(), "latest"); err != nil || got != dirs[1] {
		t.Fatalf("latest = %s, %v; want %s", got, err, dirs[1])
	}
	if err := os.WriteFile(filepath.Join(dirs[1], BackupManifestName), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := FindBackupIn([]string{root}, n.certDir(), "latest")
	if err == nil {
		t.Fatalf("latest = %s with the newest backup %s damaged; want an error", got, dirs[1])
	}
	for _, want := range []string{dirs[1], BackupManifestName, filepath.Base(dirs[0])} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error is not one line: %q", err)
	}
	if got, err := FindBackupIn([]string{root}, n.certDir(), filepath.Base(dirs[0])); err != nil || got != dirs[0] {
		t.Errorf("by name: %s, %v; want %s", got, err, dirs[0])
	}
}
