package renewal

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/txn"
)

// TestExtraCommitted: Options.Extra is committed with the files a renewal
// or a restore replaces. Restore ignored it, so `restore
// --restart-control-plane` could not record the restarts it owes in its
// own transaction, as renew does (phases/renew, oweInTxn).
func TestExtraCommitted(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(t *testing.T, n *node, o Options) error
	}{
		{"renew", func(t *testing.T, n *node, o Options) error {
			_, err := Renew(context.Background(), n.targets(t, "apiserver"), o)
			return err
		}},
		{"restore", func(t *testing.T, n *node, o Options) error {
			first, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(time.Hour)))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Restore(first.BackupDir, o)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, nil)
			extra := n.path(".extra.json")
			o := n.options(made.Add(2 * time.Hour))
			o.Extra = []txn.File{{Target: extra, Data: []byte("{}\n"), Mode: 0o600, UID: -1, GID: -1}}
			if err := tc.run(t, n, o); err != nil {
				t.Fatal(err)
			}
			if got, err := os.ReadFile(extra); err != nil || !bytes.Equal(got, []byte("{}\n")) {
				t.Errorf("Options.Extra's %s after the %s: %q, %v; want it committed with the replaced files", extra, tc.name, got, err)
			}
		})
	}
}
