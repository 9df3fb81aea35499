package carotate

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/lock"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestReissueRefusesUnwritableFile: stage reissue proves, before it
// writes, that its commit can replace every certificate it re-issues
// (renewal's check pass): an immutable apiserver.crt stops it with the
// chattr to run, and nothing is changed. That check is the renewal
// engine's dry run, which now returns its plan with what it found
// (Result.Unwritable) for renew --dry-run on a read-only file system: the
// rotation still takes it as a refusal.
func TestReissueRefusesUnwritableFile(t *testing.T) {
	f := newFixture(t)
	f.rotate(t, pki.CAName, nil) // trust
	f.now = f.now.Add(time.Minute)
	crt := f.node.Path("pki/apiserver.crt")
	treetest.Chattr(t, "+i", crt)
	root := filepath.Dir(f.node.Dir)
	before := treetest.Snapshot(t, root)
	_, err := Rotate(context.Background(), pki.CAName, f.options(nil))
	treetest.ErrMentions(t, err, crt, "immutable", "chattr -i", "nothing was changed")
	// The real pass refuses under the lock, whose file then names this
	// run's start (to the second): not a change of the node.
	after := treetest.Snapshot(t, root)
	for _, m := range []map[string]string{before, after} {
		delete(m, filepath.Join(f.node.Dir, lock.FileName))
	}
	treetest.AssertSame(t, before, after)
}
