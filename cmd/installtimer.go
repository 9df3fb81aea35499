package cmd

import (
	"strings"
	"time"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/phases/renew"
)

// installTimerOptions binds the flags to the workflow's options.
type installTimerOptions struct {
	renew.Timer
	offset time.Duration
}

func newInstallTimerCommand() *cobra.Command {
	o := &installTimerOptions{}
	c := &cobra.Command{
		Use:   "install-timer",
		Short: "Write a systemd service and timer that renew the certificates daily, unattended",
		Long: dedent.Dedent(`
			Write certctl-renew.service and certctl-renew.timer into --unit-dir. The
			timer runs on --schedule (systemd's OnCalendar, daily at midnight by
			default) shifted by this node's offset, and at boot if a run was missed:

			  certctl ` + strings.Join(renew.CronArgs, " ") + `

			with --config, --cert-dir and --kubeconfig-dir when given, which renews
			what expires within 30 days, makes the kubelet restart the static pods
			that use the renewed files, checks that they serve the new
			certificates, and keeps 10 backups. Exit statuses 2 (nothing to do) and 5
			(an external CA's certificates skipped) count as success. Existing unit
			files are replaced, but not a masked one (systemctl mask): it is
			refused; a drop-in (systemctl edit) that sets ExecStart= or
			OnCalendar=, and so overrides the flags, is warned of. Then run:

			  systemctl daemon-reload && systemctl enable --now certctl-renew.timer

			The nodes of a cluster must not renew, and restart their kube-apiservers
			and etcd members, together: each node's schedule is shifted by an offset
			within --stagger, the same on every install, computed from its name
			(--node-name; else the CN of etcd/server.crt in --cert-dir, or
			nodeRegistration.name of --config; else the host name). --offset sets
			it instead, e.g. 0, 20m and 40m on three nodes.

			docs/cron.md explains each line, and the crontab line for nodes without
			systemd.
		`),
		Example: examples(`
			# See the units
			certctl install-timer --dry-run

			# A node made with another configuration and folders, renewing at 02:00 plus its offset
			sudo certctl install-timer --config /etc/kubernetes/kubeadm.yaml \
			  --cert-dir /srv/k8s/pki --kubeconfig-dir /srv/k8s --schedule '*-*-* 02:00'

			# Three nodes spread by hand, 20 minutes apart
			sudo certctl install-timer --offset 20m   # on the second node

			# Install them for a certctl in another place
			sudo certctl install-timer --certctl-path /opt/bin/certctl
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	fs := c.Flags()
	fs.StringVar(&o.UnitDir, "unit-dir", renew.DefaultUnitDir, "folder to write the units into")
	fs.StringVar(&o.CertctlPath, "certctl-path", renew.DefaultCertctlPath, "absolute path of certctl in ExecStart (written in double quotes when it has a space, with % as %%)")
	fs.StringVar(&o.ConfigFile, "config", "", "kubeadm configuration file the renewal reads (--config in ExecStart; made absolute); default: the cluster's kubeadm-config ConfigMap, else the certificates (docs/renew.md)")
	fs.StringVar(&o.CertDir, "cert-dir", "", "certificate folder the renewal uses (--cert-dir in ExecStart; the unit runs only when it holds the API server's or etcd's serving certificate); default: certctl's")
	fs.StringVar(&o.KubeconfigDir, "kubeconfig-dir", "", "kubeconfig folder the renewal uses (--kubeconfig-dir in ExecStart); default: certctl's")
	fs.StringVar(&o.Schedule, "schedule", renew.DefaultSchedule, "when the timer runs, before the node's offset: systemd's OnCalendar, one of daily, weekly, monthly, hourly or [WEEKDAYS] [YYYY-MM-DD] HH:MM[:SS] (systemd.time(7))")
	fs.DurationVar(&o.Stagger, "stagger", renew.DefaultStagger, "window of the node's offset, computed from its name so that the nodes of a cluster renew apart; 0 for none")
	fs.DurationVar(&o.offset, "offset", 0, "this node's offset after --schedule, instead of the one --stagger computes")
	fs.StringVar(&o.NodeName, "node-name", "", "node name the offset is computed from (default: from --cert-dir's etcd/server.crt or --config, else the host name)")
	fs.BoolVar(&o.DryRun, "dry-run", false, "print the units instead of writing them; nothing is written")
	fs.BoolVar(&o.DryRun, "print", false, "the same as --dry-run")
	// A calendar event of one's own is typed: no space after a shorthand
	// would be wrong, so the shorthands end the word as usual.
	_ = c.RegisterFlagCompletionFunc("schedule", cobra.FixedCompletions(renew.ScheduleShorthands(), cobra.ShellCompDirectiveNoFileComp))
	return c
}

func (o *installTimerOptions) run(cmd *cobra.Command) error {
	o.Out, o.ErrOut = cmd.OutOrStdout(), cmd.ErrOrStderr()
	if cmd.Flags().Changed("offset") {
		o.Offset = &o.offset
	}
	o.StaggerSet = cmd.Flags().Changed("stagger")
	return renew.InstallTimer(o.Timer)
}
