package renew

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// finish reports the renewal, prunes the backups and restarts the
// components, with those an earlier run left owed; its error is the
// run's. res is empty when the run only retries owed restarts.
func (r *run) finish(ctx context.Context, res *renewal.Result) error {
	o, out, s := &r.o, r.out(), r.summary
	certDir, kubeconfigDir := o.Cluster.CertificatesDir, o.KubeconfigDir
	s.addSkipped(res, certDir, kubeconfigDir)
	var external []string
	for _, e := range res.External {
		external = append(external, e.Name)
	}
	var changed []string
	for _, rn := range res.Renewed {
		_, cert := renewal.CurrentCert(rn.Target, certDir, kubeconfigDir)
		serial := staticpods.Serial(cert)
		capped := ""
		if rn.Capped {
			capped = ", cut to its CA's expiry"
		}
		fmt.Fprintf(out, "[renew] %s renewed: %s (valid until %s%s, serial %s)\n", rn.Name, strings.Join(rn.Files, ", "), rn.NotAfter.UTC().Format(time.RFC3339), capped, serial)
		s.Renewed = append(s.Renewed, renewedEntry{Name: rn.Name, Files: rn.Files, Serial: serial, NotAfter: rn.NotAfter.UTC(), CappedToCA: rn.Capped})
		changed = append(changed, rn.Files...)
	}
	// A failed prune must not keep the components from restarting: its
	// error waits for the end.
	var pruneErr error
	if len(res.Renewed) > 0 {
		if res.BackupDir != "" {
			s.BackupDir = res.BackupDir
			fmt.Fprintf(out, "[backup] The old files are saved in %s\n", res.BackupDir)
		}
		pruneErr = r.prune(res.BackupDir)
	}
	if o.Threshold {
		now := o.Now()
		caBound, short := renewal.WithinWindow(res.Renewed, certDir, now, o.IfExpiresWithin)
		for _, b := range caBound {
			r.limitedByCA(b, now)
		}
		for _, nd := range short {
			r.shortIssued(nd, now)
		}
	}
	restarts := res.Restarts()
	for _, rs := range restarts {
		s.RestartNeeded = append(s.RestartNeeded, rs.Component)
	}
	var err error
	switch {
	case o.Restart.Enabled && (len(res.Renewed) > 0 || r.retrying()):
		err = interruptedRestarts(ctx, r.restartOwed(ctx, changed, restarts), renewedDone(res), r.owed)
		if ctx.Err() == nil {
			pruneErr = cmp.Or(pruneErr, r.pruneManifestBackups())
		}
	case len(res.Renewed) == 0:
	default:
		writeRestartAdvice(out, "renew", "new", restarts)
	}
	switch {
	case err != nil:
		return err
	case pruneErr != nil:
		return pruneErr
	case r.caErr != nil:
		return r.caErr
	case len(external) > 0:
		// Said even with --quiet (on stderr then): the run is not a full success.
		w := out
		if w == io.Discard {
			w = o.ErrOut
		}
		fmt.Fprintf(w, "[renew] %d certificate(s) of an external CA not renewed: their CA key is not on this node; renew them with `certctl renew %s --use-api` (or --use-csr)\n", len(external), strings.Join(external, " "))
		return &exitcode.Error{Code: exitcode.ExternalCA}
	case len(res.Renewed) > 0 || len(s.Restarts) > 0:
		return nil
	case o.Threshold:
		fmt.Fprintln(out, "[renew] Nothing to do: nothing was renewed and no restart is owed")
		return &exitcode.Error{Code: exitcode.NothingToDo}
	}
	fmt.Fprintln(out, "[renew] Nothing was renewed.")
	return nil
}

// shortIssued warns that nd, just renewed, ends within --if-expires-within
// because its issuer gave it less than asked: every run with this window
// renews it again (with --use-api: a new CSR, an approval, and the
// restarts), and each exits 0. Said even with --quiet (on stderr then): a
// cron job prints only errors and warnings.
func (r *run) shortIssued(nd renewal.NotDue, now time.Time) {
	asked := "less than asked"
	if c := r.o.Cluster; !c.KeepValidity {
		asked = fmt.Sprintf("less than the %v asked", c.CertificateValidity)
	}
	msg := fmt.Sprintf("%s was issued a certificate valid until %s (%v), within --if-expires-within %v, so the next run renews it again, and every run after it: its signer gave %s; raise the signer's longest validity (kube-controller-manager's --cluster-signing-duration, certctl signer run's --certificate-validity), or run with an --if-expires-within well below what it gives",
		nd.Name, nd.NotAfter.UTC().Format(time.RFC3339), nd.NotAfter.Sub(now).Round(time.Second), r.o.IfExpiresWithin, asked)
	r.loudWarning(msg)
}

// interruptedRestarts is err, the restarts' error, said as what a signal
// left when it ended their wait (ctx done): what had been installed
// (done: the renewal or restore had committed), and which restarts are
// still owed (owed), which the next run with --restart-control-plane
// retries.
func interruptedRestarts(ctx context.Context, err error, done string, owed *staticpods.Pending) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	var names []string
	if owed != nil {
		for _, c := range owed.Components {
			names = append(names, c.Component)
		}
	}
	if len(names) == 0 {
		return &exitcode.Changed{Done: done + "; no restart is owed", Err: err}
	}
	// Only those restarted before the signal have a marked manifest,
	// which the kubelet acts on; the others were not started.
	return &exitcode.Changed{Done: fmt.Sprintf("%s, but %s must still be restarted: run `certctl renew` with --restart-control-plane again, which restarts those not restarted yet and verifies those whose manifest it had marked (the kubelet restarts them), or `certctl check-expiration` to see what is owed", done, strings.Join(names, ", ")), Err: err}
}

// renewedDone says what a renewal installed, for interruptedRestarts.
func renewedDone(res *renewal.Result) string {
	var names []string
	for _, rn := range res.Renewed {
		names = append(names, rn.Name)
	}
	if len(names) == 0 {
		return "no certificate was renewed"
	}
	return fmt.Sprintf("the renewed certificates were installed (%s)", strings.Join(names, ", "))
}

// prune applies --keep-backups after the renewal that saved the old files
// in made ("" with --no-backup), which it keeps.
func (r *run) prune(made string) error {
	keep := r.o.KeepBackups
	if keep <= 0 {
		return nil
	}
	removed, left, damaged, err := renewal.PruneBackupsAfter(r.o.Cluster.CertificatesDir, keep, made)
	for _, d := range removed {
		fmt.Fprintf(r.out(), "[backup] Removed the old backup %s (--keep-backups %d)\n", d, keep)
		r.summary.PrunedBackups = append(r.summary.PrunedBackups, d)
	}
	// Not counted nor removed: said at each prune, else they pile up.
	for _, b := range damaged {
		r.loudWarning(renewal.NotPruned(b, keep))
	}
	// Renamed away, so no longer listed, but its files are there: said
	// where, not "Removed".
	for _, d := range left {
		fmt.Fprintf(r.out(), "[backup] Could not remove the old backup %s (--keep-backups %d): it is left as %s, which the next prune removes once it can\n", d.Dir, keep, d.As)
	}
	if err != nil {
		// Said as the manifest backups' prune says it: the error alone
		// ("remove old backup DIR: unlinkat ...: operation not
		// permitted") read as a renewal that failed, and said nothing
		// to do.
		return fmt.Errorf("%w: the renewal is done; remove what is left yourself (if root cannot, a file in it is immutable or append-only: lsattr -R it, then chattr -i or chattr -a), or give the run no --keep-backups", err)
	}
	return nil
}

// pruneManifestBackups applies --keep-backups to the folders where the
// restarts save the manifests they annotate (manifests.BackupDir), after
// they ran: one a run that restarts, also one that only retries a restart
// owed, so a component down for months left one a day. This run's is kept;
// one dated ahead of the clock (o.Now) goes first.
func (r *run) pruneManifestBackups() error {
	keep := r.o.KeepBackups
	removed, left, err := manifests.PruneBackupDirs(r.o.Restart.ManifestDir, keep, r.summary.StartedAt, r.o.Now())
	for _, d := range removed {
		fmt.Fprintf(r.out(), "[restart] Removed the old manifest backup %s (--keep-backups %d)\n", d, keep)
		r.summary.PrunedManifestBackups = append(r.summary.PrunedManifestBackups, d)
	}
	for _, d := range left {
		fmt.Fprintf(r.out(), "[restart] Could not remove the old manifest backup %s (--keep-backups %d): it is left as %s, which the next prune removes once it can\n", d.Dir, keep, d.As)
	}
	if err != nil {
		// Not "that folder": the error may name tmp/ itself, which holds
		// kubeadm's backups too.
		return fmt.Errorf("%w: the restarts are done; remove the oldest certctl-backup-manifests-* in %s yourself, or give the run no --keep-backups", err, manifests.BackupParent(r.o.Restart.ManifestDir))
	}
	return nil
}

// writeRestartAdvice says, after files were replaced without
// --restart-control-plane (a renewal, a restore), which components must be
// restarted to read them, or that none must: on a line tagged tag, of the
// "what" certificates.
func writeRestartAdvice(out io.Writer, tag, what string, restarts []renewal.Restart) {
	if len(restarts) == 0 {
		fmt.Fprintf(out, "[%s] %s\n", tag, renewal.NothingToRestart)
		return
	}
	parts := make([]string, len(restarts))
	for i, rs := range restarts {
		parts[i] = fmt.Sprintf("%s (%s)", rs.Component, strings.Join(rs.Names, ", "))
	}
	fmt.Fprintf(out, "[%s] Restart these components so that they use the %s certificates (or run with --restart-control-plane): %s\n", tag, what, strings.Join(parts, "; "))
}

// addSkipped records the warnings of res, and what it skipped: missing,
// or of an external CA.
func (s *Summary) addSkipped(res *renewal.Result, certDir, kubeconfigDir string) {
	s.Warnings = append(s.Warnings, res.Warnings...)
	for _, m := range res.Missing {
		s.Skipped = append(s.Skipped, skippedEntry{Name: m.Name, File: m.File(certDir, kubeconfigDir), Reason: reasonMissing})
	}
	for _, e := range res.External {
		s.Skipped = append(s.Skipped, skippedEntry{Name: e.Name, File: e.File(certDir, kubeconfigDir), Reason: reasonExternalCA})
	}
}

// writeDryRunRestarts is a dry run's line of the components that would
// have to be restarted (enabled: that --restart-control-plane would
// restart), in the real run's order; nothing when none. When enabled, a
// second line names the Leases the real run would wait for and take
// (lease.go), which the dry run does not touch, and a third, when etcd is
// among them, the check of etcd's quorum before its restart (quorum.go),
// which the dry run does not make.
func writeDryRunRestarts(w io.Writer, restarts []renewal.Restart, restart Restart) {
	enabled := restart.Enabled
	if len(restarts) == 0 {
		return
	}
	names := make([]string, len(restarts))
	for i, rs := range restarts {
		names[i] = rs.Component
	}
	what := "would have to be restarted"
	if enabled {
		what = "would be restarted (--restart-control-plane)"
	}
	fmt.Fprintf(w, "[dry-run] %s %s\n", strings.Join(names, ", "), what)
	if !enabled {
		return
	}
	fmt.Fprintf(w, "[dry-run] %s\n", DryRunLeases(names))
	for _, check := range DryRunChecks(names, restart.leaseWait()) {
		fmt.Fprintf(w, "[dry-run] %s\n", check)
	}
}

// DryRunChecks says, for a dry run, the checks the real run makes before
// the restarts of components (in its order), each waiting up to wait,
// which the dry run does not make: etcd's quorum (EtcdQuorum) before
// etcd's, and the other kube-apiservers' readiness (APIServers) before
// kube-apiserver's or etcd's. One sentence each, none when components
// has neither; renew's and ca rotate's dry runs print them.
func DryRunChecks(components []string, wait time.Duration) []string {
	var out []string
	if slices.Contains(components, pki.Etcd) {
		out = append(out, fmt.Sprintf("Before etcd's restart, the real run would ask this node's etcd member for the other members' health and, with three members or more, wait up to %s while fewer than a quorum would be healthy without this one, then leave the restart owed. This dry run asks etcd nothing", wait))
	}
	if slices.Contains(components, pki.KubeAPIServer) || slices.Contains(components, pki.Etcd) {
		out = append(out, fmt.Sprintf("Before the restart of kube-apiserver, or of etcd on a node with one, the real run would ask the other nodes' kube-apiservers (their mirror pods in kube-system) for /readyz and, while none is ready and this node's is, wait up to %s, then leave the restart owed. This dry run asks them nothing", wait))
	}
	return out
}
