package renewal

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
)

// TestRestoreRefusesABackupOthersMayWrite: FindBackup refuses a
// certctl-backups that other users may write, but not one backup folder
// in it (or a folder of it, or its backup.json) that they may: one
// copied from another node with its owner kept (rsync -a), or chmodded.
// With certctl-backups 0755, as many nodes have it, that user could
// rewrite backup.json and the files it lists, which the restore installed
// as root. Each is refused, nothing restored, and says what to do.
func TestRestoreRefusesABackupOthersMayWrite(t *testing.T) {
	for _, tc := range []struct {
		name string
		rel  string // in the backup folder
		mode os.FileMode
		want string
	}{
		{name: "backup folder", mode: 0o777, want: "chmod 700 "},
		{name: "its pki folder", rel: BackupCertDirName, mode: 0o775, want: "chmod 700 "},
		{name: "its backup.json", rel: BackupManifestName, mode: 0o666, want: "chmod 600 "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, nil)
			res, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			root, _ := BackupRoot(n.certDir())
			if err := os.Chmod(root, 0o755); err != nil {
				t.Fatal(err)
			}
			if _, err := Restore(res.BackupDir, n.restoreOptions(made.Add(2*time.Hour))); err != nil {
				t.Fatalf("a private backup: %v", err)
			}
			p := filepath.Join(res.BackupDir, tc.rel)
			if err := os.Chmod(p, tc.mode); err != nil {
				t.Fatal(err)
			}
			before := treetest.Snapshot(t, n.Dir)
			_, err = Restore(res.BackupDir, n.restoreOptions(made.Add(2*time.Hour)))
			if err == nil || !strings.Contains(err.Error(), tc.want+p) {
				t.Errorf("restore with %s mode %04o: %v, want it refused, saying %s%s", p, tc.mode, err, tc.want, p)
			}
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
		})
	}
}
