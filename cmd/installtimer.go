package cmd

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/lithammer/dedent"
	"github.com/spf13/cobra"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/phases/node"
)

// The systemd units `install-timer` writes, which docs/cron.md shows
// (a test keeps the two equal).
const (
	timerServiceName = "certctl-renew.service"
	timerTimerName   = "certctl-renew.timer"
	// DefaultCertctlPath is where the units expect certctl.
	DefaultCertctlPath = "/usr/local/bin/certctl"
	defaultUnitDir     = "/etc/systemd/system"
)

// renewCronArgs is the recommended unattended renewal, after the binary:
// renew what expires within 30 days, restart what uses it and check that
// it serves the new certificates, keep 10 backups.
var renewCronArgs = []string{"renew", "all", "--if-expires-within", "720h", "--restart-control-plane", "--keep-backups", "10"}

// execPath returns certctl's path as the first word of ExecStart, quoted
// for systemd (systemd.service(5), "Command lines"; systemd.syntax(7)):
// "%" is a specifier there, written "%%"; a path with a space is one word
// only in double quotes. The executable is not subject to "$" expansion,
// so a "$" stays as it is. systemd refuses an executable whose path holds
// a quote, a backslash or a control character whatever the escaping
// ("Executable name contains special characters", systemd 252), so such a
// path is refused here, before a unit that cannot start is written.
func execPath(path string) (string, error) {
	if !filepath.IsAbs(path) {
		return "", fmt.Errorf("--certctl-path %q must be absolute: systemd runs ExecStart without a search path", path)
	}
	if i := strings.IndexFunc(path, func(r rune) bool { return r < ' ' || r == 0x7f || strings.ContainsRune(`"'\`, r) }); i >= 0 {
		return "", fmt.Errorf("--certctl-path %q: systemd refuses to run a program whose path contains %q (quotes, backslashes and control characters): install certctl in a folder without it, such as %s", path, path[i:i+1], DefaultCertctlPath)
	}
	word := strings.ReplaceAll(filepath.Clean(path), "%", "%%")
	if strings.ContainsAny(word, " ;") {
		word = `"` + word + `"`
	}
	return word, nil
}

// timerUnits returns the service and timer units for certctl at path,
// which execPath has quoted.
//
// RandomizedDelaySec spreads the nodes of a cluster over an hour, so that
// they do not restart their kube-apiservers and etcd members together;
// Persistent runs a day that was missed (node down at midnight) at the
// next boot. SuccessExitStatus=2 is renew's "nothing to do", the usual day.
// The condition skips nodes without a cluster CA (workers).
func timerUnits(certctl string) (service, timer string) {
	service = strings.TrimLeft(dedent.Dedent(`
		# Written by certctl install-timer; see docs/cron.md.
		[Unit]
		Description=Renew the control-plane certificates that expire within 30 days (certctl)
		Documentation=https://github.com/certctl/certctl/blob/main/docs/cron.md
		ConditionPathExists=/etc/kubernetes/pki/ca.crt
		After=kubelet.service

		[Service]
		Type=oneshot
		ExecStart=`+certctl+" "+strings.Join(renewCronArgs, " ")+`
		SuccessExitStatus=2
		TimeoutStartSec=1h
	`), "\n")
	timer = strings.TrimLeft(dedent.Dedent(`
		# Written by certctl install-timer; see docs/cron.md.
		[Unit]
		Description=Daily renewal of the control-plane certificates that expire within 30 days (certctl)
		Documentation=https://github.com/certctl/certctl/blob/main/docs/cron.md

		[Timer]
		OnCalendar=daily
		RandomizedDelaySec=1h
		Persistent=true

		[Install]
		WantedBy=timers.target
	`), "\n")
	return service, timer
}

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

			  certctl ` + strings.Join(renewCronArgs, " ") + `

			which renews what expires within 30 days, makes the kubelet restart the
			static pods that use the renewed files, checks that they serve the new
			certificates, and keeps 10 backups. Exit status 2 (nothing to do) counts
			as success. Existing unit files are replaced. Then run:

			  systemctl daemon-reload && systemctl enable --now certctl-renew.timer

			docs/cron.md explains each line, and the crontab line for nodes without
			systemd.
		`),
		Example: examples(`
			# See the units
			certctl install-timer --print

			# Install them for a certctl in another place
			sudo certctl install-timer --certctl-path /opt/bin/certctl
		`),
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	c.Flags().StringVar(&o.unitDir, "unit-dir", defaultUnitDir, "folder to write the units into")
	c.Flags().StringVar(&o.certctl, "certctl-path", DefaultCertctlPath, "absolute path of certctl in ExecStart (written in double quotes when it has a space, with % as %%)")
	c.Flags().BoolVar(&o.print, "print", false, "print the units instead of writing them")
	return c
}

func (o *installTimerOptions) run(cmd *cobra.Command) error {
	program, err := execPath(o.certctl)
	if err != nil {
		return err
	}
	if o.print && cmd.Flags().Changed("unit-dir") {
		return fmt.Errorf("--print writes nothing: drop --unit-dir or --print")
	}
	service, timer := timerUnits(program)
	out := cmd.OutOrStdout()
	if o.print {
		fmt.Fprintf(out, "# %s\n%s\n# %s\n%s", filepath.Join(defaultUnitDir, timerServiceName), service, filepath.Join(defaultUnitDir, timerTimerName), timer)
		return nil
	}
	switch st, err := os.Stat(o.unitDir); {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("the unit folder %s does not exist: on a node with systemd pass its unit folder with --unit-dir (default %s); without systemd, use the crontab line of docs/cron.md", o.unitDir, defaultUnitDir)
	case err != nil:
		return fmt.Errorf("check the unit folder: %w", node.WithPermissionHint(err))
	case !st.IsDir():
		return fmt.Errorf("--unit-dir %s is not a folder: pass systemd's unit folder, such as %s", o.unitDir, defaultUnitDir)
	}
	if _, err := os.Stat(o.certctl); err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "[warning] %s: %v; install certctl there, or pass --certctl-path\n", o.certctl, err)
	}
	for name, data := range map[string]string{timerServiceName: service, timerTimerName: timer} {
		p := filepath.Join(o.unitDir, name)
		if err := atomicfile.WriteFile(p, []byte(data), 0o644); err != nil {
			return fmt.Errorf("write unit: %w", node.WithPermissionHint(err))
		}
		fmt.Fprintf(out, "[install-timer] Wrote %s\n", p)
	}
	fmt.Fprintln(out, "[install-timer] Now run: systemctl daemon-reload && systemctl enable --now "+timerTimerName)
	return nil
}
