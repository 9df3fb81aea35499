package renewal

import (
	"bytes"
	"context"
	"errors"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/internal/txn"
)

// extraRuns are the writers that commit Options.Extra: a renewal of
// apiserver, and a restore of the backup of one. start makes what the run
// needs on n and returns the run.
var extraRuns = []struct {
	name  string
	start func(t *testing.T, n *node) func(o Options) error
}{
	{"renew", func(t *testing.T, n *node) func(o Options) error {
		return func(o Options) error {
			_, err := Renew(context.Background(), n.targets(t, "apiserver"), o)
			return err
		}
	}},
	{"restore", func(t *testing.T, n *node) func(o Options) error {
		first, err := Renew(context.Background(), n.targets(t, "apiserver"), n.options(made.Add(time.Hour)))
		if err != nil {
			t.Fatal(err)
		}
		return func(o Options) error {
			_, err := Restore(first.BackupDir, o)
			return err
		}
	}},
}

// TestExtraCommitted: Options.Extra is committed with the files a renewal
// or a restore replaces. Restore ignored it, so `restore
// --restart-control-plane` could not record the restarts it owes in its
// own transaction, as renew does (phases/renew, oweInTxn).
func TestExtraCommitted(t *testing.T) {
	for _, tc := range extraRuns {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, nil)
			extra := n.path(".extra.json")
			o := n.options(made.Add(2 * time.Hour))
			o.Extra = []txn.File{{Target: extra, Data: []byte("{}\n"), Mode: 0o600, UID: -1, GID: -1}}
			if err := tc.start(t, n)(o); err != nil {
				t.Fatal(err)
			}
			if got, err := os.ReadFile(extra); err != nil || !bytes.Equal(got, []byte("{}\n")) {
				t.Errorf("Options.Extra's %s after the %s: %q, %v; want it committed with the replaced files", extra, tc.name, got, err)
			}
		})
	}
}

// TestExtraFor: Options.ExtraFor is given the files a renewal or a
// restore will replace, once they are checked, and what it returns is
// committed with them; its error fails the run with nothing written. renew
// --restart-control-plane learnt those files from a second check pass (a
// dry run of the renewal) to record the restarts it will owe.
func TestExtraFor(t *testing.T) {
	for _, tc := range extraRuns {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t, nil)
			run := tc.start(t, n)
			extra := n.path(".extra.json")
			var got []string
			o := n.options(made.Add(2 * time.Hour))
			o.ExtraFor = func(replaced []string) ([]txn.File, error) {
				got = replaced
				return nil, errors.New("refused")
			}
			before := treetest.Snapshot(t, n.Dir)
			treetest.ErrMentions(t, run(o), "refused")
			treetest.AssertSame(t, before, treetest.Snapshot(t, n.Dir))
			if want := []string{n.path("pki/apiserver.crt"), n.path("pki/apiserver.key")}; !slices.Equal(got, want) {
				t.Errorf("ExtraFor was given %q, want the files the %s replaces, %q", got, tc.name, want)
			}
			o.ExtraFor = func([]string) ([]txn.File, error) {
				return []txn.File{{Target: extra, Data: []byte("{}\n"), Mode: 0o600, UID: -1, GID: -1}}, nil
			}
			if err := run(o); err != nil {
				t.Fatal(err)
			}
			if data, err := os.ReadFile(extra); err != nil || !bytes.Equal(data, []byte("{}\n")) {
				t.Errorf("ExtraFor's %s after the %s: %q, %v; want it committed with the replaced files", extra, tc.name, data, err)
			}
		})
	}
}
