package cmd

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/phases/renew"
	"github.com/certctl/certctl/phases/renewal"
)

type restoreOptions struct {
	certDir, kubeconfigDir string
	noBackup, dryRun       bool
	lock                   lockFlags
	restart                restartOptions
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
		`),
		Example: examples(`
			# What is there
			sudo certctl restore

			# What undoing the last renewal would write back, writing nothing
			sudo certctl restore latest --dry-run

			# Undo the last renewal, and make the kubelet restart what uses the files
			sudo certctl restore latest --restart-control-plane
		`),
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return o.list(cmd)
			}
			return o.run(cmd, args[0])
		},
	}
	fs := c.Flags()
	fs.StringVar(&o.certDir, "cert-dir", config.DefaultCertificatesDir, "folder of the certificates; the backups are in certctl-backups/ beside it")
	fs.StringVar(&o.kubeconfigDir, "kubeconfig-dir", config.DefaultKubeconfigDir, "folder of the kubeconfig files")
	fs.BoolVar(&o.noBackup, "no-backup", false, "do not save the files the restore replaces")
	fs.BoolVar(&o.dryRun, "dry-run", false, "check the backup and print what would be restored, without writing or restarting anything")
	o.lock.addTo(fs)
	o.restart.addTo(fs)
	return c
}

func (o *restoreOptions) list(cmd *cobra.Command) error {
	if cmd.Flags().Changed("no-backup") || o.restart.Enabled || o.dryRun {
		return fmt.Errorf("--no-backup, --dry-run and --restart-control-plane apply to a restore: name the backup to restore")
	}
	root, err := renewal.BackupRoot(o.certDir)
	if err != nil {
		return err
	}
	var backups []renewal.Backup
	err = node.Read(cmd.Context(), cmd.ErrOrStderr(), o.certDir, []string{o.kubeconfigDir}, func() error {
		backups, err = renewal.ListBackups(root)
		return err
	})
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if len(backups) == 0 {
		fmt.Fprintf(out, "No backup in %s.\n", root)
		return nil
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tCREATED\tFILES\tFOLDER")
	for _, b := range backups {
		if b.Err != nil {
			fmt.Fprintf(w, "%s\t-\t-\t%s (not a complete backup: %v)\n", b.Name, b.Dir, b.Err)
			continue
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\n", b.Name, b.Manifest.Created.UTC().Format(time.RFC3339), len(b.Manifest.Files), b.Dir)
	}
	return w.Flush()
}

func (o *restoreOptions) run(cmd *cobra.Command, name string) error {
	if err := o.restart.validate(cmd); err != nil {
		return err
	}
	return renew.Restore(cmd.Context(), renew.Options{
		Cluster: &config.Cluster{CertificatesDir: o.certDir}, KubeconfigDir: o.kubeconfigDir, NoBackup: o.noBackup, DryRun: o.dryRun,
		LockTimeout: o.lock.timeout, Restart: o.restart.Restart, Out: cmd.OutOrStdout(), ErrOut: cmd.ErrOrStderr(),
	}, name)
}
