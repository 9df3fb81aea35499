package renew

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lithammer/dedent"

	"github.com/certctl/certctl/internal/atomicfile"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/node"
	"github.com/certctl/certctl/pki"
)

// The systemd units `install-timer` writes, which docs/cron.md shows
// (a test keeps the two equal).
const (
	ServiceName = "certctl-renew.service"
	TimerName   = "certctl-renew.timer"
	// DefaultCertctlPath is where the units expect certctl.
	DefaultCertctlPath = "/usr/local/bin/certctl"
	DefaultUnitDir     = "/etc/systemd/system"
	DefaultCertDir     = "/etc/kubernetes/pki"
	// DefaultSchedule is the timer's OnCalendar: daily at midnight, plus
	// the node's offset.
	DefaultSchedule = "daily"
	// DefaultStagger is the window the nodes' offsets fall in.
	DefaultStagger = time.Hour
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
	if i := strings.IndexFunc(path, func(r rune) bool { return isControl(r) || strings.ContainsRune(`"'\`, r) }); i >= 0 {
		return "", fmt.Errorf("--certctl-path %q: systemd refuses to run a program whose path contains %q (quotes, backslashes and control characters): install certctl in a folder without it, such as %s", path, path[i:i+1], DefaultCertctlPath)
	}
	if err := notUTF8("--certctl-path", path); err != nil {
		return "", err
	}
	word := strings.ReplaceAll(filepath.Clean(path), "%", "%%")
	if strings.ContainsAny(word, " ;") {
		word = `"` + word + `"`
	}
	return word, nil
}

// timerUnits returns the service and timer units of t for certctl at
// program, which execPath has quoted, with args after CronArgs and the
// schedule already staggered.
//
// The schedule is staggered per node (Stagger), so that the nodes of a
// cluster do not restart their kube-apiservers and etcd members together;
// Persistent runs a day that was missed (node down at midnight) at the
// next boot. SuccessExitStatus=2 is renew's "nothing to do", the usual day;
// 5 is "the others done, an external CA's skipped", which must not fail the
// unit every day on a node whose etcd CA, say, is kept offline. 143 is a
// stop systemd asked for (`systemctl stop`, a shutdown: SIGTERM,
// exitcode.Terminated), and SIGTERM the same stop in the millisecond
// before certctl handles it: the renewal is safe to stop and resumes at
// the next run, so neither fails the unit (a oneshot's stop counts as a
// failure unless its status is listed, systemd.service(5)). A Ctrl-C
// (130) is not listed, and a run stopped by TimeoutStartSec= stays failed:
// systemd keeps "timeout" as its result whatever the status.
// The conditions run it only on a node that has the API server's or
// etcd's serving certificate: a control-plane node, or an etcd-only one
// (kubeadm's external etcd cluster). A worker has the cluster's ca.crt
// (kubeadm join writes it for the kubelet) but nothing renew all renews:
// the unit is skipped there, not failed every day. served are their
// paths, each written for a unit setting (unitPath).
func timerUnits(program string, args []string, served []string, schedule, stagger string) (service, timer string) {
	var conditions string
	for _, p := range served {
		// "|": a triggering condition; the unit runs when one holds.
		conditions += "ConditionPathExists=|" + p + "\n"
	}
	service = strings.TrimLeft(dedent.Dedent(`
		# Written by certctl install-timer; see docs/cron.md.
		[Unit]
		Description=Renew the control-plane certificates that expire within 30 days (certctl)
		Documentation=https://github.com/certctl/certctl/blob/main/docs/cron.md
		CONDITIONS
		After=kubelet.service

		[Service]
		Type=oneshot
		ExecStart=`+strings.Join(append(append([]string{program}, CronArgs...), args...), " ")+`
		SuccessExitStatus=2 5 143 SIGTERM
		TimeoutStartSec=1h
	`), "\n")
	service = strings.Replace(service, "CONDITIONS\n", conditions, 1)
	timer = strings.TrimLeft(dedent.Dedent(`
		# Written by certctl install-timer; see docs/cron.md.
		[Unit]
		Description=Renewal of the control-plane certificates that expire within 30 days (certctl)
		Documentation=https://github.com/certctl/certctl/blob/main/docs/cron.md

		[Timer]
		# `+stagger+`
		OnCalendar=`+schedule+`
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
	// ConfigFile, CertDir and KubeconfigDir are passed to the renewal
	// (--config, --cert-dir, --kubeconfig-dir) when not empty; they must
	// be absolute.
	ConfigFile, CertDir, KubeconfigDir string
	// ConditionCertDir is the folder whose serving certificates the
	// service's conditions name: CertDir, the configuration's
	// certificatesDir, else DefaultCertDir.
	ConditionCertDir string
	// Schedule is the timer's OnCalendar (DefaultSchedule when empty).
	Schedule string
	// NodeName and Stagger decide the node's offset within the stagger
	// window (see Offset); Offset, when set, is used instead.
	NodeName string
	Stagger  time.Duration
	Offset   *time.Duration
	// StaggerSet says --stagger was given: with Offset, a conflict.
	StaggerSet bool
	DryRun     bool // print the units on Out instead of writing them
	Out        io.Writer
	ErrOut     io.Writer
}

// Resolve makes ConfigFile, CertDir and KubeconfigDir absolute (a
// relative path means nothing to a unit run from /: it is resolved here,
// where the user meant it), checks ConfigFile, which a renewal would
// otherwise refuse every day, and fills ConditionCertDir and, when empty,
// NodeName: the one of the certificates in the folder the renewal will use
// (the CN of etcd/server.crt), else the configuration's
// nodeRegistration.name, else the host name (docs/cron.md).
func (t *Timer) Resolve() error {
	if t.Offset != nil && t.StaggerSet {
		return fmt.Errorf("--offset sets the node's offset that --stagger would compute: drop one of them")
	}
	for _, p := range []*string{&t.ConfigFile, &t.CertDir, &t.KubeconfigDir} {
		if *p != "" {
			abs, err := filepath.Abs(*p)
			if err != nil {
				return fmt.Errorf("resolve %s: %w", *p, err)
			}
			*p = abs
		}
	}
	c := config.Default()
	if t.ConfigFile != "" {
		file, err := config.LoadFile(t.ConfigFile, config.Default())
		if err != nil {
			return err
		}
		c = file.Cluster
	}
	t.ConditionCertDir = cmp.Or(t.CertDir, c.CertificatesDir)
	if t.NodeName != "" {
		return nil
	}
	// The certificates' name first (docs/cron.md): it is this node's even
	// when the configuration is a copy shared by the nodes, which would
	// give them all one offset.
	fromCerts := config.Cluster{ControlPlaneEndpoint: c.ControlPlaneEndpoint, APIServerCertSANs: c.APIServerCertSANs}
	config.NodeFromCertificatesIn(&fromCerts, t.ConditionCertDir)
	if t.NodeName = cmp.Or(fromCerts.NodeName, c.NodeName); t.NodeName != "" {
		return nil
	}
	h, err := os.Hostname()
	if err != nil {
		return fmt.Errorf("find the node name for the offset: %w; pass --node-name or --offset", err)
	}
	t.NodeName = strings.ToLower(strings.TrimSpace(h))
	return nil
}

// Units returns the service and timer units t describes.
func (t Timer) Units() (service, timer string, err error) {
	program, err := execPath(t.CertctlPath)
	if err != nil {
		return "", "", err
	}
	var args []string
	for _, a := range []struct{ flag, path string }{{"--config", t.ConfigFile}, {"--cert-dir", t.CertDir}, {"--kubeconfig-dir", t.KubeconfigDir}} {
		if a.path == "" {
			continue
		}
		if !filepath.IsAbs(a.path) { // Resolve makes them so; Units may run without it
			return "", "", fmt.Errorf("%s %q must be absolute: the unit runs from /", a.flag, a.path)
		}
		if err := oneLine(a.flag, a.path); err != nil {
			return "", "", err
		}
		args = append(args, a.flag, unitArg(filepath.Clean(a.path)))
	}
	certDir := cmp.Or(t.ConditionCertDir, t.CertDir, DefaultCertDir)
	if err := oneLine("the certificate folder (certificatesDir of --config)", certDir); err != nil {
		return "", "", err
	}
	offset, why, err := t.offset()
	if err != nil {
		return "", "", err
	}
	schedule, err := Stagger(t.Schedule, offset)
	if err != nil {
		return "", "", err
	}
	served := servedCerts(certDir)
	for i := range served {
		served[i] = unitPath(served[i])
	}
	service, timer = timerUnits(program, args, served, schedule, why)
	return service, timer, nil
}

// oneLine refuses a path with a control character (a newline, a tab):
// written into a unit it would end the line, and the rest of the path
// would be read as a directive of its own. execPath refuses them in
// --certctl-path for the same reason. It refuses a path that is not
// valid UTF-8 too (notUTF8).
func oneLine(what, path string) error {
	if i := strings.IndexFunc(path, isControl); i >= 0 {
		return fmt.Errorf("%s %q contains a control character (%q), which a systemd unit cannot hold on its line: use a path without it; nothing was written", what, path, path[i:i+1])
	}
	return notUTF8(what, path)
}

// notUTF8 refuses a path that is not valid UTF-8 (a folder named in
// Latin-1): systemd ignores such a line of a unit ("String is not UTF-8
// clean, ignoring assignment", systemd 252), and the service without its
// ExecStart does not load at all.
func notUTF8(what, path string) error {
	if utf8.ValidString(path) {
		return nil
	}
	return fmt.Errorf("%s %q is not valid UTF-8, and systemd ignores a unit line that is not: rename it, or use a link to it whose path is; nothing was written", what, path)
}

// isControl is an ASCII control character (a newline, a tab, DEL), which
// ends a unit's line or is no part of one.
func isControl(r rune) bool { return r < ' ' || r == 0x7f }

// servedCerts are the serving certificates in certDir whose presence runs
// the service (timerUnits): the API server's and etcd's.
func servedCerts(certDir string) []string {
	var out []string
	for _, e := range []pki.Entry{pki.Kubeadm().WithSANs(pki.APIServerSANs), pki.Kubeadm().WithSANs(pki.EtcdServerSANs)} {
		out = append(out, pki.Store{Dir: certDir}.CertPath(e.BaseName))
	}
	return out
}

// warnSkipped warns when a certificate folder given (--cert-dir, or
// certificatesDir of --config) has none of the certificates that run the
// service: a mistyped folder would skip every run, silently. kubeadm's
// folder without them is a worker or a node before kubeadm init, where
// skipping is the point.
func (t Timer) warnSkipped() {
	dir := cmp.Or(t.ConditionCertDir, t.CertDir, DefaultCertDir)
	if filepath.Clean(dir) == DefaultCertDir {
		return
	}
	served := servedCerts(dir)
	for _, p := range served {
		if _, err := os.Stat(p); err == nil {
			return
		}
	}
	fmt.Fprintf(t.ErrOut, "[warning] neither %s exists: the service skips every run until one does; if %s is not the node's certificate folder, pass the right one\n", strings.Join(served, " nor "), dir)
}

// checkNotMasked refuses a unit of t.UnitDir that is masked (a link to
// /dev/null, what `systemctl mask` makes): someone stopped the renewal on
// purpose, during maintenance or a CA rotation, and writing the unit over
// the link silently undid that.
func (t Timer) checkNotMasked() error {
	for _, name := range []string{ServiceName, TimerName} {
		p := filepath.Join(t.UnitDir, name)
		if target, err := os.Readlink(p); err == nil && target == os.DevNull {
			return fmt.Errorf("%s is masked (a link to %s): someone stopped the daily renewal on purpose; run `systemctl unmask %s` if it may run again, then install-timer again; nothing was written", p, os.DevNull, name)
		}
	}
	return nil
}

// InstallTimer is `certctl install-timer`: it writes the service and timer
// units into t.UnitDir, or prints them, after Resolve.
func InstallTimer(t Timer) error {
	if err := t.Resolve(); err != nil {
		return err
	}
	service, timer, err := t.Units()
	if err != nil {
		return err
	}
	t.warnSkipped()
	t.warnDropIns()
	out := t.Out
	if err := t.checkNotMasked(); err != nil {
		if !t.DryRun {
			return err
		}
		fmt.Fprintf(t.ErrOut, "[warning] %v\n", err)
	}
	if t.DryRun {
		// Printed to be saved (--dry-run > units): a write that fails
		// is an error, not a silent exit 0.
		if _, err := fmt.Fprintf(out, "# %s\n%s\n# %s\n%s", filepath.Join(t.UnitDir, ServiceName), service, filepath.Join(t.UnitDir, TimerName), timer); err != nil {
			return fmt.Errorf("write the units: %w", err)
		}
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
	// The service first: a timer is never left without the service it
	// starts, and the output is the same at every run.
	for _, u := range []struct{ name, data string }{{ServiceName, service}, {TimerName, timer}} {
		p := filepath.Join(t.UnitDir, u.name)
		if err := atomicfile.WriteFile(p, []byte(u.data), 0o644); err != nil {
			return fmt.Errorf("write unit: %w", node.WithPermissionHint(err))
		}
		fmt.Fprintf(out, "[install-timer] Wrote %s\n", p)
	}
	fmt.Fprintln(out, "[install-timer] Now run: systemctl daemon-reload && systemctl enable --now "+TimerName)
	return nil
}
