package cmd

import (
	"fmt"
	"strings"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/phases/renew"
)

type installTimerOptions struct {
	unitDir, certctl string
	print            bool
}

func newInstallTimerCommand() *cobra.Command {
	o := &installTimerOptions{}
	c := &cobra.Command{
		Use:   "install-timer",
		Short: "Write a systemd service and timer that renew the certificates daily, unattended",
		Long: dedent.Dedent(`
			Write certctl-renew.service and certctl-renew.timer into --unit-dir. The
			timer runs, once a day at a random time within the hour after midnight
			(and at boot if a day was missed):

			  certctl ` + strings.Join(renew.CronArgs, " ") + `

			which renews what expires within 30 days, makes the kubelet restart the
			static pods that use the renewed files, checks that they serve the new
			certificates, and keeps 10 backups. Exit status 2 (nothing to do) counts
			as success. Existing unit files are replaced. Then run:

			  systemctl daemon-reload && systemctl enable --now certctl-renew.timer

			docs/cron.md explains each line, and the crontab line for nodes without
			systemd.
		`),
		Example: examples(`
			# See the units, writing nothing
			certctl install-timer --dry-run

			# Install them for a certctl in another place
			sudo certctl install-timer --certctl-path /opt/bin/certctl
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	c.Flags().StringVar(&o.unitDir, "unit-dir", renew.DefaultUnitDir, "folder to write the units into")
	c.Flags().StringVar(&o.certctl, "certctl-path", renew.DefaultCertctlPath, "absolute path of certctl in ExecStart (written in double quotes when it has a space, with % as %%)")
	// --dry-run as in every command that writes; --print, its first
	// spelling, stays for the scripts that use it.
	c.Flags().BoolVar(&o.print, "dry-run", false, "print the units instead of writing them; nothing is written")
	c.Flags().BoolVar(&o.print, "print", false, "the same as --dry-run")
	return c
}

func (o *installTimerOptions) run(cmd *cobra.Command) error {
	if o.print && cmd.Flags().Changed("unit-dir") {
		flag := "--dry-run"
		if cmd.Flags().Changed("print") {
			flag = "--print"
		}
		return fmt.Errorf("%s writes nothing: drop --unit-dir or %s", flag, flag)
	}
	return renew.InstallTimer(renew.Timer{UnitDir: o.unitDir, CertctlPath: o.certctl, Print: o.print, Out: cmd.OutOrStdout(), ErrOut: cmd.ErrOrStderr()})
}
