package cmd

import (
	"fmt"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/renew"
)

type restoreOptions struct {
	folders          folderFlags
	noBackup, dryRun bool
	output           string
	lock             lockFlags
	restart          restartOptions
}

func newRestoreCommand() *cobra.Command {
	o := &restoreOptions{}
	c := &cobra.Command{
		Use:   "restore [BACKUP|latest]",
		Short: "List the backups that renewals made, or put one back crash-safely",
		Long: dedent.Dedent(`
			Without an argument, list the backups in certctl-backups/ beside the
			certificate folder, oldest first. It only reads.

			With one (a backup's name, its folder, or "latest"), write its files back
			where its backup.json says they were, with their mode and owner, in one
			transaction, as renew writes: killed at any instant, the next certctl
			command leaves all the old files or all the restored ones. Before
			anything is written every file is checked against its SHA-256, every
			path against the folders the backup was taken of (which must be
			--cert-dir and --kubeconfig-dir), and every certificate of the folder
			against its key. The files it replaces are saved as a new backup first
			(--no-backup skips it), so a restore can be undone by restoring that one.

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
			f, err := output.Parse(o.output)
			if err != nil {
				return err
			}
			if len(args) == 0 {
				return o.list(cmd, f)
			}
			return o.run(cmd, args[0], f)
		},
	}
	fs := c.Flags()
	o.folders.addTo(fs, "folder of the certificates (certificatesDir of --config); the backups are in certctl-backups/ beside it")
	fs.StringVarP(&o.output, "output", "o", "text", output.Help())
	fs.BoolVar(&o.noBackup, "no-backup", false, "do not save the files the restore replaces")
	fs.BoolVar(&o.dryRun, "dry-run", false, "check the backup and print what would be restored, without writing or restarting anything")
	o.lock.addTo(fs)
	o.restart.addTo(fs)
	return c
}

func (o *restoreOptions) list(cmd *cobra.Command, f output.Format) error {
	if cmd.Flags().Changed("no-backup") || o.restart.Enabled || o.dryRun {
		return fmt.Errorf("--no-backup, --dry-run and --restart-control-plane apply to a restore: name the backup to restore")
	}
	certDir, err := o.folders.certDir(cmd, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	debugf(vDecisions, "listing the backups beside %s", certDir)
	return renew.ListBackups(cmd.Context(), certDir, o.folders.kubeconfigDir, f, cmd.OutOrStdout(), cmd.ErrOrStderr())
}

func (o *restoreOptions) run(cmd *cobra.Command, name string, f output.Format) error {
	if err := o.restart.Check(cmd.Flags().Changed); err != nil {
		return err
	}
	certDir, err := o.folders.certDir(cmd, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	return renew.Restore(cmd.Context(), renew.Options{
		Cluster: &config.Cluster{CertificatesDir: certDir}, KubeconfigDir: o.folders.kubeconfigDir, NoBackup: o.noBackup, DryRun: o.dryRun,
		LockTimeout: o.lock.timeout, Restart: o.restart.Restart, Format: f, JSON: renew.Structured(f), Out: cmd.OutOrStdout(), ErrOut: cmd.ErrOrStderr(),
	}, name)
}
