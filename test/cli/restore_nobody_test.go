package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRestoreUnreadableBackupsAsNobody: as a user who may not read
// certctl-backups (root's, 0700), `restore NAME` said "no backup DIR",
// although it is there, and `restore` said "permission denied" with no
// next step. Both now name the folder and say to run certctl as root.
func TestRestoreUnreadableBackupsAsNobody(t *testing.T) {
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	run(t, bin, append([]string{"renew", "apiserver"}, n.flags()...)...)
	as := giveToNobody(t, n)
	root := filepath.Join(n.dir, "certctl-backups")
	entries, err := os.ReadDir(root)
	if err != nil || len(entries) != 1 {
		t.Fatalf("backups: %v, %v", entries, err)
	}
	if err := filepath.WalkDir(root, func(p string, _ os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, 0, 0)
	}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(root, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"restore", entries[0].Name()}, {"restore"}} {
		code, errLine := runAs(t, as, bin, append(args, n.flags()...)...)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1", args, code)
		}
		assertErrLine(t, args[0], errLine, root, "run certctl as root")
	}
}
