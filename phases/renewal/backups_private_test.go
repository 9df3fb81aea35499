package renewal

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestRestoreRefusesBackupsOthersMayWrite: certctl-backups is made 0700,
// and `certctl restore latest` installs what it holds, as root, into the
// certificate folders. One that other users may write (a chmod 777) let
// them put a backup of their own there, a CA and its key say, that the
// next restore installed. It is refused, as the transaction folder is.
func TestRestoreRefusesBackupsOthersMayWrite(t *testing.T) {
	n := newNode(t, nil)
	if _, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(time.Hour))); err != nil {
		t.Fatal(err)
	}
	root, _ := BackupRoot(n.certDir())
	if _, err := FindBackup(root, "latest"); err != nil {
		t.Fatalf("a 0700 backup folder: %v", err)
	}
	if err := os.Chmod(root, 0o777); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(root)
	for _, name := range []string{"latest", entries[0].Name()} {
		if _, err := FindBackup(root, name); err == nil || !strings.Contains(err.Error(), "chmod 700 "+root) {
			t.Errorf("FindBackup(%s) in a 0777 backup folder = %v, want it refused, saying chmod 700 %s", name, err, root)
		}
	}
}
