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

// TestRestoreUndoMissingKey: undoing a restore that wrote a key that was
// missing (its backup holds the certificate it replaced, not the key) is
// refused with the true reason and a way out that works, not blamed on
// --reuse-key, which no one used.
func TestRestoreUndoMissingKey(t *testing.T) {
	n := newNode(t, nil)
	res, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	key := filepath.Join(n.certDir(), "apiserver.key")
	if err := os.Remove(key); err != nil {
		t.Fatal(err)
	}
	restored, err := Restore(res.BackupDir, n.restoreOptions(made.Add(2*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	snap := treetest.Snapshot(t, n.Dir)
	_, err = Restore(restored.BackupDir, n.restoreOptions(made.Add(3*time.Hour)))
	treetest.ErrMentions(t, err, "would not match", "the restore of "+res.BackupDir, key+" did not exist", "mv "+key+" "+key+".restored")
	if strings.Contains(err.Error(), "--reuse-key") {
		t.Errorf("error blames --reuse-key: %v", err)
	}
	treetest.AssertSame(t, snap, treetest.Snapshot(t, n.Dir))
	// The way out it gives undoes the restore.
	if err := os.Rename(key, key+".restored"); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(restored.BackupDir, n.restoreOptions(made.Add(3*time.Hour))); err != nil {
		t.Fatalf("after moving the key away: %v", err)
	}
}
