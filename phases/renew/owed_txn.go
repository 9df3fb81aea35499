package renew

import (
	"encoding/json"
	"fmt"

	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/node"
)

// oweInTxn is, when the run restarts the control plane, the
// renewal.Options.ExtraFor of its renewal or restore: the record of the
// restarts it will owe (staticpods.PendingFileName) as a file of its
// transaction, committed with the certificates or not at all. Written
// after the commit only (restartOwed), a kill in between left the
// components on their old certificates with no record that they must be
// restarted: the next run found nothing due and nothing owed, and said
// nothing. The components are those whose manifests name the files to be
// replaced, as restartOwed finds them after the commit.
//
// The restarts an earlier run left owed, beside this name of the
// certificate folder or another (node.LoadOwed), are merged in, as
// restartOwed merges them: a record written after the commit when one
// existed left, after a kill, only the earlier restarts owed. The record
// is not backed up (renewal.Options.ExtraFor). One that cannot be read is
// left for restartOwed to report, after the commit, as before.
func (r *run) oweInTxn() func(replaced []string) ([]txn.File, error) {
	if !r.o.Restart.Enabled || r.o.DryRun {
		return nil
	}
	return func(replaced []string) ([]txn.File, error) {
		path, err := staticpods.PendingPath(r.o.Cluster.CertificatesDir)
		if err != nil {
			return nil, err
		}
		owed, err := node.LoadOwed(r.o.Cluster.CertificatesDir, []string{r.o.KubeconfigDir})
		if err != nil {
			return nil, nil // restartOwed reports it, after the commit
		}
		affected, _ := r.set.AffectedWithPending(replaced, owed)
		now := r.o.Now()
		r.ownOwed = map[string]bool{}
		for _, a := range affected {
			if owed.Get(a.Component) == nil {
				r.ownOwed[a.Component] = true
			}
			owed.Owe(a, now)
		}
		if len(r.ownOwed) == 0 {
			return nil, nil // nothing new to owe: the record stays as it is
		}
		data, err := json.MarshalIndent(owed, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encode the restarts owed: %w", err)
		}
		return []txn.File{{Target: path, Data: append(data, '\n'), Mode: 0o600, UID: -1, GID: -1}}, nil
	}
}
