package renew

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/phases/renewal"
)

// Restore is `certctl restore NAME`: under the lock, it puts back the files
// of the backup name (renewal.FindBackup) and, with Restart, makes the
// kubelet restart what reads them. Of o it uses Cluster.CertificatesDir,
// KubeconfigDir, NoBackup, LockTimeout, Restart, Now, Rand, Out, ErrOut.
func Restore(ctx context.Context, o Options, name string) error {
	o.defaults()
	r := &run{o: o, summary: newSummary(o.Now(), 0)}
	certDir := o.Cluster.CertificatesDir
	if err := r.loadManifests(); err != nil {
		return err
	}
	release, err := node.Lock(ctx, o.ErrOut, certDir, o.LockTimeout, o.KubeconfigDir)
	if err != nil {
		return err
	}
	defer release()
	releaseManifests, err := r.lockManifests(ctx)
	if err != nil {
		return err
	}
	defer releaseManifests()
	root, err := renewal.BackupRoot(certDir)
	if err != nil {
		return err
	}
	dir, err := renewal.FindBackup(root, name)
	if err != nil {
		return err
	}
	res, err := renewal.Restore(dir, renewal.RestoreOptions{
		CertDir: certDir, KubeconfigDir: o.KubeconfigDir, NoBackup: o.NoBackup, Now: o.Now, Rand: o.Rand,
	})
	if err != nil {
		return err
	}
	writeRestore(o.Out, dir, res)
	if o.Restart.Enabled && len(res.Restored) > 0 {
		// As renew: a restart that fails is remembered, and retried by the
		// next renew --restart-control-plane.
		_, _, _, err := r.restartOwed(ctx, res.Restored, nil)
		return err
	}
	return nil
}

func writeRestore(out io.Writer, dir string, res *renewal.RestoreResult) {
	if res.BackupDir != "" {
		fmt.Fprintf(out, "[backup] The files the restore replaces are saved in %s\n", res.BackupDir)
	}
	for _, f := range res.Restored {
		fmt.Fprintf(out, "[restore] %s restored from %s\n", f, dir)
	}
	if len(res.Restored) == 0 {
		fmt.Fprintf(out, "[restore] Nothing to do: the %d file(s) already hold the content of %s\n", len(res.Unchanged), dir)
		return
	}
	if len(res.Unchanged) > 0 {
		fmt.Fprintf(out, "[restore] %d file(s) already held the backup's content: %s\n", len(res.Unchanged), strings.Join(res.Unchanged, ", "))
	}
}
