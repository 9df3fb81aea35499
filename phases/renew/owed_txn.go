package renew

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/certctl/certctl/internal/txn"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/renewal"
)

// oweInTxn adds to opts, when the run restarts the control plane, the
// record of the restarts the renewal will owe (staticpods.PendingFileName)
// as a file of the renewal's transaction: committed with the certificates,
// or not at all. Written after the commit only (restartOwed), a kill in
// between left the components on their old certificates with no record
// that they must be restarted: the next run found nothing due and nothing
// owed, and said nothing. The components are those whose manifests name
// the files the renewal plans to replace (a dry run of it, which writes
// nothing), as restartOwed finds them after the commit.
//
// Only when no record exists: one in the kubeconfig folder (where it is by
// default) would be backed up with the replaced files, and restored with
// them. The restarts an earlier run left owed are recorded already; those
// of this run are then written after the commit, as before.
func (r *run) oweInTxn(ctx context.Context, selected []renewal.Target, opts *renewal.Options) error {
	if !r.o.Restart.Enabled || len(selected) == 0 {
		return nil
	}
	path, err := staticpods.PendingPath(r.o.Cluster.CertificatesDir)
	if err != nil {
		return err
	}
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil // an error is LoadPending's to report, after the commit
	}
	owed, err := staticpods.LoadPending(path)
	if err != nil {
		return err
	}
	plan := *opts
	plan.DryRun, plan.Out, plan.Warn = true, io.Discard, io.Discard
	res, err := renewal.Renew(ctx, selected, plan)
	if err != nil {
		return err
	}
	var files []string
	for _, p := range res.Planned {
		files = append(files, p.Files...)
	}
	affected, _ := r.set.AffectedWithPending(files, owed)
	now := r.o.Now()
	r.ownOwed = map[string]bool{}
	for _, a := range affected {
		owed.Owe(a, now)
		r.ownOwed[a.Component] = true
	}
	if owed.Len() == 0 {
		return nil
	}
	data, err := json.MarshalIndent(owed, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the restarts owed: %w", err)
	}
	opts.Extra = append(opts.Extra, txn.File{Target: path, Data: append(data, '\n'), Mode: 0o600, UID: -1, GID: -1})
	return nil
}
