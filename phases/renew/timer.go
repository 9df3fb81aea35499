package renew

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/lithammer/dedent"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/phases/node"
)

// The systemd units `install-timer` writes, which docs/cron.md shows
// (a test keeps the two equal).
const (
	ServiceName = "certctl-renew.service"
	TimerName   = "certctl-renew.timer"
	// DefaultCertctlPath is where the units expect certctl.
	DefaultCertctlPath = "/usr/local/bin/certctl"
	DefaultUnitDir     = "/etc/systemd/system"
)

// CronArgs is the recommended unattended renewal, after the binary:
// renew what expires within 30 days, restart what uses it and check that
// it serves the new certificates, keep 10 backups.
var CronArgs = []string{"renew", "all", "--if-expires-within", "720h", "--restart-control-plane", "--keep-backups", "10"}

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
// next boot. SuccessExitStatus=2 is renew's "nothing to do", the usual day;
// 5 is "the others done, an external CA's skipped", which must not fail the
// unit every day on a node whose etcd CA, say, is kept offline.
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
		ExecStart=`+certctl+" "+strings.Join(CronArgs, " ")+`
		SuccessExitStatus=2 5
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

// Timer is what InstallTimer writes, and where.
type Timer struct {
	UnitDir     string // systemd's unit folder
	CertctlPath string // certctl's absolute path, for ExecStart
	Print       bool   // print the units on Out instead of writing them
	Out, ErrOut io.Writer
}

// InstallTimer is `certctl install-timer`: it writes the service and timer
// units into t.UnitDir, or prints them.
func InstallTimer(t Timer) error {
	program, err := execPath(t.CertctlPath)
	if err != nil {
		return err
	}
	service, timer := timerUnits(program)
	out := t.Out
	if t.Print {
		fmt.Fprintf(out, "# %s\n%s\n# %s\n%s", filepath.Join(DefaultUnitDir, ServiceName), service, filepath.Join(DefaultUnitDir, TimerName), timer)
		return nil
	}
	switch st, err := os.Stat(t.UnitDir); {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("the unit folder %s does not exist: on a node with systemd pass its unit folder with --unit-dir (default %s); without systemd, use the crontab line of docs/cron.md", t.UnitDir, DefaultUnitDir)
	case err != nil:
		return fmt.Errorf("check the unit folder: %w", node.WithPermissionHint(err))
	case !st.IsDir():
		return fmt.Errorf("--unit-dir %s is not a folder: pass systemd's unit folder, such as %s", t.UnitDir, DefaultUnitDir)
	}
	if _, err := os.Stat(t.CertctlPath); err != nil {
		fmt.Fprintf(t.ErrOut, "[warning] %s: %v; install certctl there, or pass --certctl-path\n", t.CertctlPath, err)
	}
	for name, data := range map[string]string{ServiceName: service, TimerName: timer} {
		p := filepath.Join(t.UnitDir, name)
		if err := atomicfile.WriteFile(p, []byte(data), 0o644); err != nil {
			return fmt.Errorf("write unit: %w", node.WithPermissionHint(err))
		}
		fmt.Fprintf(out, "[install-timer] Wrote %s\n", p)
	}
	fmt.Fprintln(out, "[install-timer] Now run: systemctl daemon-reload && systemctl enable --now "+TimerName)
	return nil
}
