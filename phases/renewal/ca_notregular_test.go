package renewal

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
)

// TestCANotRegularSaysReplace: a FIFO (or a folder) where a CA's
// certificate or key belongs is refused with what it is and "replace it";
// the error went on "run certctl as root, or fix the permissions", which
// sends an SRE running as root after the wrong fault.
func TestCANotRegularSaysReplace(t *testing.T) {
	for _, file := range []string{"pki/ca.crt", "pki/ca.key"} {
		t.Run(file, func(t *testing.T) {
			n := newNode(t, nil)
			if err := os.Remove(n.path(file)); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(n.path(file), 0o600); err != nil {
				t.Fatal(err)
			}
			before := treetest.Snapshot(t, n.Dir)
			o := n.options(renewAt)
			o.SkipMissing = true
			_, err := Renew(context.Background(), n.targets(t, "apiserver"), o)
			treetest.ErrMentions(t, err, n.path(file), "not a regular file but a FIFO", "replace it")
			if err != nil && strings.Contains(err.Error(), "permissions") {
				t.Errorf("the error blames permissions: %v", err)
			}
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
		})
	}
}
