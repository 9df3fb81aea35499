package renew

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

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
// Only when no record exists: one in the kubeconfig folder (where it is by
// default) would be backed up with the replaced files, and restored with
// them. The restarts an earlier run left owed are recorded already; those
// of this run are then written after the commit, as before.
func (r *run) oweInTxn() func(replaced []string) ([]txn.File, error) {
	if !r.o.Restart.Enabled || r.o.DryRun {
		return nil
	}
	return func(replaced []string) ([]txn.File, error) {
		path, err := staticpods.PendingPath(r.o.Cluster.CertificatesDir)
		if err != nil {
			return nil, err
		}
		// A record beside this name or another name of a linked folder
		// (node.LoadOwed) is merged with this run's after the commit.
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			return nil, nil // an error is LoadPending's to report, after the commit
		}
		if other, err := node.LoadOwed(r.o.Cluster.CertificatesDir, []string{r.o.KubeconfigDir}); err != nil || len(other.Records()) > 0 {
			return nil, nil
		}
		owed, err := staticpods.LoadPending(path)
		if err != nil {
			return nil, err
		}
		affected, _ := r.set.AffectedWithPending(replaced, owed)
		now := r.o.Now()
		r.ownOwed = map[string]bool{}
		for _, a := range affected {
			owed.Owe(a, now)
			r.ownOwed[a.Component] = true
		}
		if owed.Len() == 0 {
			return nil, nil
		}
		data, err := json.MarshalIndent(owed, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("encode the restarts owed: %w", err)
		}
		return []txn.File{{Target: path, Data: append(data, '\n'), Mode: 0o600, UID: -1, GID: -1}}, nil
	}
}
