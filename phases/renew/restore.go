package renew

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/renewal/apirenew"
	"github.com/certctl/certctl/pki"
)

// Restore is `certctl restore NAME`: under the lock, it puts back the files
// of the backup name (renewal.FindBackup) and, with Restart, makes the
// kubelet restart what reads them. Of o it uses Cluster.CertificatesDir,
// KubeconfigDir, NoBackup, LockTimeout, Restart, DryRun, Now, Rand, Out,
// ErrOut. A dry run reads consistently without the lock (node.DryRun),
// says what would be restored, and writes and restarts nothing.
//
// With -o json, yaml or jsonpath (Structured) it prints one RestoreSummary,
// also after an error, with exitCode and error, as renew's summary.
func Restore(ctx context.Context, o Options, name string) error {
	o.defaults()
	out := &output.CountingWriter{W: o.Out}
	o.Out = out
	found, err := restore(ctx, o, name)
	err = exitcode.WithSignal(ctx, err) // the summary's status is the process's
	if err != nil && out.N == 0 && o.Format.Structured() {
		// Refused before it had a restore to report (no such backup,
		// the lock held, a backup that may not be restored): the
		// summary says so, empty but for the backup when it was found.
		return cmp.Or(printRestoreErr(out, o.Format, found, &renewal.RestoreResult{}, o.DryRun, o.Restart, nil, nil, err), err)
	}
	return err
}

// restore is Restore; found is the backup's folder once it was found
// ("" before), for the summary of a restore refused.
func restore(ctx context.Context, o Options, name string) (found string, err error) {
	r := &run{o: o, summary: newSummary(o.Now(), 0)}
	certDir := o.Cluster.CertificatesDir
	// Before a dry run too, as renew's: a --manifest-dir the real restore
	// refuses must not pass its dry run.
	if err := r.loadManifests(); err != nil {
		return "", err
	}
	if o.DryRun {
		err := node.DryRun(ctx, o.ErrOut, o.Out, certDir, []string{o.KubeconfigDir}, true, func(w io.Writer) error {
			dir, res, err := r.restore(name)
			if found = dir; err != nil {
				return err
			}
			r.warnRestore(res)
			// As the real restore warns before its restarts.
			r.warnNoManifest(res.Restarts)
			var unwritable error
			if res.Unwritable != nil {
				// The plan, where it cannot be carried out (renew's too).
				unwritable = fmt.Errorf("the real restore would fail: %w", res.Unwritable)
			}
			all := *res
			all.Warnings = append(slices.Clip(res.Warnings), r.summary.Warnings...)
			return cmp.Or(printRestoreErr(w, o.Format, dir, &all, true, o.Restart, nil, r.superseded, unwritable), unwritable)
		})
		return found, err
	}
	release, err := r.lock(ctx, o.ErrOut)
	if err != nil {
		return "", err
	}
	defer release()
	dir, res, err := r.restore(name)
	if err != nil {
		return dir, err
	}
	r.warnRestore(res)
	if len(res.Restored) > 0 && len(r.superseded) > 0 {
		apirenew.RemoveEmptyPendingDir(certDir)
	}
	if !o.Format.Structured() {
		writeRestore(o.Out, dir, res, false, Restart{}, r.superseded)
		if !o.Restart.Enabled && len(res.Restored) > 0 {
			writeRestartAdvice(o.Out, "restart", "restored", res.Restarts)
		}
	}
	if o.Restart.Enabled && len(res.Restored) > 0 {
		// As renew: a restart that fails is remembered, and retried by the
		// next renew --restart-control-plane.
		err = interruptedRestarts(ctx, r.restartOwed(ctx, res.Restored, res.Restarts), fmt.Sprintf("the backup %s was restored (%d file(s))", dir, len(res.Restored)), r.owed)
		err = exitcode.WithSignal(ctx, err)
	}
	if o.Format.Structured() {
		// With the restarts' warnings, as renew's summary lists them.
		all := *res
		all.Warnings = append(slices.Clip(res.Warnings), r.summary.Warnings...)
		err = cmp.Or(err, printRestoreErr(o.Out, o.Format, dir, &all, false, o.Restart, r.summary.Restarts, r.superseded, err))
	}
	return dir, err
}

// warnRestore prints the warnings of a restore (renewal.RestoreResult)
// where renew prints its own: on ErrOut, unless quiet.
func (r *run) warnRestore(res *renewal.RestoreResult) {
	for _, w := range res.Warnings {
		fmt.Fprintf(r.warnOut(), "[warning] %s\n", w)
	}
}

// printRestore prints what a restore did (dryRun: would do) in f: the
// lines of writeRestore, or the RestoreSummary schema. restart is how
// the restore restarts the components (Enabled: --restart-control-plane).
func printRestore(out io.Writer, f output.Format, dir string, res *renewal.RestoreResult, dryRun bool, restart Restart, restarts []staticpods.Result) error {
	return printRestoreErr(out, f, dir, res, dryRun, restart, restarts, nil, nil)
}

// printRestoreErr is printRestore with pruned, the pending keys of
// --use-api the restore removed (withSuperseded), and err, the restore's
// error, as the summary's exitCode and error.
func printRestoreErr(out io.Writer, f output.Format, dir string, res *renewal.RestoreResult, dryRun bool, restart Restart, restarts []staticpods.Result, pruned []prunedPendingKey, err error) error {
	if !f.Structured() {
		writeRestore(out, dir, res, dryRun, restart, pruned)
		return nil
	}
	s := &RestoreSummary{
		Kind: "RestoreSummary", APIVersion: summaryAPIVersion, Backup: dir, DryRun: dryRun,
		Restored: append([]string{}, res.Restored...), Unchanged: append([]string{}, res.Unchanged...),
		BackupDir: res.BackupDir, RestartNeeded: []string{}, Restarts: append([]staticpods.Result{}, restarts...),
		Warnings: append([]string{}, res.Warnings...), ExitCode: exitcode.Of(err),
	}
	if len(res.Restored) > 0 {
		s.PrunedPendingKeys = pruned
	}
	if err != nil {
		s.Error = err.Error()
	}
	for _, rs := range res.Restarts {
		s.RestartNeeded = append(s.RestartNeeded, rs.Component)
	}
	return f.Print(out, s, nil)
}

// refused is a restore refused before it began: with -o json, yaml or
// jsonpath its summary, empty but for exitCode and error, then err.
func (r RestoreRequest) refused(f output.Format, err error) error {
	if !f.Structured() {
		return err
	}
	return cmp.Or(printRestoreErr(r.Out, f, "", &renewal.RestoreResult{}, r.DryRun, r.Restart, nil, nil, err), err)
}

// restore restores the backup name, or with o.DryRun checks what it
// would; with the restarts it will owe in its transaction (oweInTxn).
func (r *run) restore(name string) (string, *renewal.RestoreResult, error) {
	o := r.o
	roots, err := backupRoots(o.Cluster.CertificatesDir, []string{o.KubeconfigDir})
	if err != nil {
		return "", nil, err
	}
	dir, warnings, err := renewal.FindBackupWarn(roots, o.Cluster.CertificatesDir, name)
	if err != nil {
		return "", nil, err
	}
	for _, w := range warnings {
		r.warning(w)
	}
	ro := renewal.Options{
		CertDir: o.Cluster.CertificatesDir, KubeconfigDir: o.KubeconfigDir, NoBackup: o.NoBackup, DryRun: o.DryRun, Now: o.Now, Rand: o.Rand,
		// A pending key of --use-api of a certificate restored asks to
		// renew the one it replaces, as after a renewal from the CAs on
		// disk: the same rule removes it.
		ExtraFor: r.withSuperseded(renewal.Targets(pki.Kubeadm(), false), r.oweInTxn()),
	}
	// The newest backup is the one a restore made of what it replaced
	// while that restore is in force: `restore latest` again (after a
	// kill, or not sure it ran) restored it and undid the restore. It is
	// the same restore again, with nothing to do; the undo is by name.
	if name == "latest" {
		if done := renewal.RestoreInEffect(dir, ro); done != "" {
			if !o.Format.Structured() {
				fmt.Fprintf(o.Out, "[restore] The latest backup, %s, holds what `certctl restore` replaced when it restored %s, which is still in place: restoring %s again, not undoing that restore (to undo it, run `certctl restore %s`)\n", dir, done, done, dir)
			}
			dir = done
		}
	}
	res, err := renewal.Restore(dir, ro)
	return dir, res, err
}

// writeRestore prints the lines of a restore, and of the pending keys of
// --use-api it removed (pruned); a dry run's also say what would have to
// be restarted, as renew --dry-run's do (restart: how the real run would
// restart them, writeDryRunRestarts).
func writeRestore(out io.Writer, dir string, res *renewal.RestoreResult, dryRun bool, restart Restart, pruned []prunedPendingKey) {
	if res.BackupDir != "" {
		fmt.Fprintf(out, "[backup] The files the restore replaces are saved in %s\n", res.BackupDir)
	}
	done, tag := "restored", "[restore]"
	if dryRun {
		done, tag = "would be restored", "[dry-run]"
	}
	for _, f := range res.Restored {
		fmt.Fprintf(out, "%s %s %s from %s\n", tag, f, done, dir)
	}
	if len(res.Restored) > 0 {
		for _, k := range pruned {
			fmt.Fprintln(out, apirenew.SupersededLine("restore", k.Name, "restored from the backup", dryRun))
		}
	}
	if dryRun {
		writeDryRunRestarts(out, res.Restarts, restart)
		fmt.Fprintf(out, "[dry-run] %d file(s) would be restored; nothing was written\n", len(res.Restored))
	}
	if len(res.Restored) == 0 {
		fmt.Fprintf(out, "[restore] Nothing to do: the %d file(s) already hold the content of %s\n", len(res.Unchanged), dir)
		return
	}
	if len(res.Unchanged) > 0 {
		fmt.Fprintf(out, "[restore] %d file(s) already held the backup's content: %s\n", len(res.Unchanged), strings.Join(res.Unchanged, ", "))
	}
}

// RestoreRequest is `certctl restore [BACKUP]` as asked: without a name it
// lists the backups, with one it restores it (Restore) with Options.
type RestoreRequest struct {
	Options
	Output string // -o as given
	// Given says whether a flag was given on the command line.
	Given func(flag string) bool
	// CertDir reads the certificate folder the flags name.
	CertDir func() (string, error)
	// Debugf prints what is read (-v 2); nil: nothing.
	Debugf func(format string, args ...any)
}

// Main lists the backups (no argument) or restores the one args names.
func (r RestoreRequest) Main(ctx context.Context, args []string) error {
	f, err := output.Parse(r.Output)
	if err != nil {
		return err
	}
	list := len(args) == 0
	if list {
		if err := r.checkList(); err != nil {
			return err
		}
	}
	if !list {
		if err := r.Restart.Check(r.Given); err != nil {
			return r.refused(f, err)
		}
	}
	certDir, err := r.CertDir()
	if err != nil {
		if !list {
			return r.refused(f, err)
		}
		return err
	}
	if list {
		if r.Debugf != nil {
			r.Debugf("listing the backups beside %s", certDir)
		}
		return ListBackups(ctx, certDir, r.KubeconfigDir, f, r.Out, r.ErrOut)
	}
	o := r.Options
	o.Cluster, o.Format = &config.Cluster{CertificatesDir: certDir}, f
	return Restore(ctx, o, args[0])
}

// checkList refuses the flags of a restore given to the list of backups,
// naming those given only.
func (r RestoreRequest) checkList() error {
	var given []string
	for _, f := range []struct {
		name string
		on   bool
	}{
		{"no-backup", r.Given("no-backup")}, {"dry-run", r.DryRun}, {"restart-control-plane", r.Restart.Enabled},
		{"manifest-dir", r.Given("manifest-dir")}, {"restart-timeout", r.Given("restart-timeout")},
	} {
		if f.on {
			given = append(given, "--"+f.name)
		}
	}
	switch n := len(given); n {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("%s applies to a restore, not to the list of backups: name the backup to restore, or drop it", given[0])
	default:
		all := strings.Join(given[:n-1], ", ") + " and " + given[n-1]
		return fmt.Errorf("%s apply to a restore, not to the list of backups: name the backup to restore, or drop them", all)
	}
}
