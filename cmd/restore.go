package cmd

import (
	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/internal/debuglog"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/renew"
)

type restoreOptions struct {
	renew.RestoreRequest
	folders folderFlags
}

func newRestoreCommand() *cobra.Command {
	o := &restoreOptions{}
	c := &cobra.Command{
		Use:   "restore [BACKUP|latest]",
		Short: "List the backups that renewals made, or put one back crash-safely",
		Long: dedent.Dedent(`
			Without an argument, list the backups in certctl-backups/ beside the
			certificate folder, oldest first (by when each was made). It only reads.

			With one (a backup's name, its folder, or "latest"), write its files back
			where its backup.json says they were, with their mode and owner, in one
			transaction, as renew writes: killed at any instant, the next certctl
			command leaves all the old files or all the restored ones. Before
			anything is written every file is checked against its SHA-256, every
			path against the folders the backup was taken of (which must be
			--cert-dir and --kubeconfig-dir), every certificate of the folder
			against its key, its expiry and the CA it will sit beside (a backup
			taken before the CAs changed is refused). The files it replaces are saved as a new backup first
			(--no-backup skips it), so a restore can be undone by restoring that one,
			by its name: "latest" run again while the restore it made is in place
			is that same restore, with nothing to do.

			Then restart the components, or pass --restart-control-plane (see
			"certctl renew --help").

			-o json|yaml prints the list as the schema output.certctl.io/v1
			BackupList, and a restore's result as RestoreSummary (docs/renew.md);
			-o wide adds each backup's folder to the list.
		`),
		Example: examples(`
			# What is there
			sudo certctl restore

			# What undoing the last renewal would write back, writing nothing
			sudo certctl restore latest --dry-run

			# Undo the last renewal, and make the kubelet restart what uses the files
			sudo certctl restore latest --restart-control-plane

			# The name of the newest backup, for a script
			certctl restore -o jsonpath='{.items[-1:].name}'
		`),
		Args:              cobra.MaximumNArgs(1),
		ValidArgsFunction: completeBackups(&o.folders),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.KubeconfigDir = o.folders.kubeconfigDir
			o.Out, o.ErrOut, o.Given = cmd.OutOrStdout(), cmd.ErrOrStderr(), cmd.Flags().Changed
			o.CertDir = func() (string, error) { return o.folders.certDir(cmd, cmd.ErrOrStderr()) }
			o.Debugf = func(format string, args ...any) { debuglog.Debugf(debuglog.Decisions, format, args...) }
			return o.Main(cmd.Context(), args)
		},
	}
	fs := c.Flags()
	o.folders.addTo(fs, "folder of the certificates (certificatesDir of --config); the backups are in certctl-backups/ beside it")
	fs.StringVarP(&o.Output, "output", "o", "text", output.Help())
	fs.BoolVar(&o.NoBackup, "no-backup", false, "do not save the files the restore replaces")
	fs.BoolVar(&o.DryRun, "dry-run", false, "check the backup and print what would be restored, without writing or restarting anything")
	addLockFlag(fs, &o.LockTimeout)
	addRestartFlags(fs, &o.Restart)
	return c
}
