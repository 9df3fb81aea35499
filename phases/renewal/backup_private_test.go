package renewal

import (
	"context"
	"os"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestRenewRefusesBackupFolderOthersMayWrite: restore refuses a
// certctl-backups that other users may write (what they put there it
// would install as root), and docs/renew.md's refusals list it for renew
// too, but a renewal saved its backup there and succeeded: the backup of
// the replaced files was one that `certctl restore` would then refuse,
// found out when it was needed. A renewal now refuses it first, naming
// the folder and what to do, and changes nothing.
func TestRenewRefusesBackupFolderOthersMayWrite(t *testing.T) {
	n := newNode(t, nil)
	root, err := BackupRoot(n.certDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(root, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o777); err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, n.Dir)
	_, err = Renew(context.Background(), n.targets(t, "apiserver"), n.options(renewAt))
	treetest.ErrMentions(t, err, "backup folder "+root+" is mode 0777", "chmod 700 "+root)
	treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
	// --no-backup writes nothing there.
	o := n.options(renewAt)
	o.NoBackup = true
	if _, err := Renew(context.Background(), n.targets(t, "apiserver"), o); err != nil {
		t.Errorf("renewal with --no-backup: %v", err)
	}
}
