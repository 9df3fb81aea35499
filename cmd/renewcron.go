package cmd

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/renewal"
)

// ExitNothingToDo is renew's exit status when --if-expires-within found
// nothing to renew. Not 0, so that `certctl renew ... && hook` runs the
// hook only after a renewal, and so that a timer unit missing
// SuccessExitStatus=2 shows up as failed on its first day rather than
// after the yearly renewal that would have told them apart (docs/cron.md).
const ExitNothingToDo = 2

// Formats of renew's -o.
var renewFormats = []string{"text", "json"}

// cronOptions are the flags that make `renew` fit for cron and systemd
// timers (issue 8), and the state of one run.
type cronOptions struct {
	ifExpiresWithin time.Duration
	keepBackups     int
	jitter          time.Duration
	quiet           bool
	output          string
	restart         restartOptions

	// threshold is whether --if-expires-within was given: 0s renews only
	// what has expired, not everything.
	threshold bool
	rand      io.Reader // for --jitter
	stdout    io.Writer
	summary   *renewSummary
	// owed is what staticpods.PendingFileName lists: read before the
	// lock, to warn and to decide whether a run with nothing to renew has
	// restarts to retry; after the restarts, what is still owed.
	owed *staticpods.Pending
	// caErr collects the certificates that renewing cannot move out of
	// the window because their CA expires within it; it is the run's error
	// unless a restart failed.
	caErr *renewal.CAExpiryError
}

func newCronOptions() cronOptions { return cronOptions{rand: rand.Reader} }

func (c *cronOptions) addTo(fs *pflag.FlagSet) {
	fs.DurationVar(&c.ifExpiresWithin, "if-expires-within", 0, "renew only the certificates that expire within this duration (cron: 720h; 0s: those that have expired), and say why each other one is skipped; exit 2 when none does")
	fs.IntVar(&c.keepBackups, "keep-backups", 0, "after a renewal, keep only this many backups in certctl-backups/, removing the oldest (0: keep all)")
	fs.DurationVar(&c.jitter, "jitter", 0, "wait a random time up to this long first, so that the nodes of a cluster run at different times (e.g. 1h)")
	fs.BoolVarP(&c.quiet, "quiet", "q", false, "print errors only (for cron, which mails any output)")
	fs.StringVarP(&c.output, "output", "o", "text", "output: text (one line per action) or json (a summary at the end, schema in docs/cron.md)")
	c.restart.addTo(fs)
}

// validate rejects bad and conflicting flags before any work.
func (c *cronOptions) validate(cmd *cobra.Command) error {
	if !slices.Contains(renewFormats, c.output) {
		return fmt.Errorf("unknown output format %q: use %s", c.output, strings.Join(renewFormats, ", "))
	}
	if c.quiet && c.output != "text" {
		return fmt.Errorf("--quiet and -o %s both say what to print: drop one of them", c.output)
	}
	for _, f := range []struct {
		name     string
		value    any
		negative bool
	}{
		{"if-expires-within", c.ifExpiresWithin, c.ifExpiresWithin < 0},
		{"jitter", c.jitter, c.jitter < 0},
		{"keep-backups", c.keepBackups, c.keepBackups < 0},
	} {
		if f.negative {
			return fmt.Errorf("--%s %v must not be negative", f.name, f.value)
		}
	}
	c.threshold = cmd.Flags().Changed("if-expires-within")
	return c.restart.validate(cmd)
}

// wrap runs the command and, with -o json, prints the summary whatever
// happened.
func (c *cronOptions) wrap(cmd *cobra.Command, run func() error) error {
	c.stdout = cmd.OutOrStdout()
	c.summary = newRenewSummary(time.Now(), c.ifExpiresWithin)
	err := run()
	c.summary.addCAs(c.caErr)
	if c.owed != nil {
		c.summary.PendingRestarts = append(c.summary.PendingRestarts, c.owed.Components...)
	}
	c.summary.end(time.Now(), err)
	if c.output == "json" {
		if werr := c.summary.write(c.stdout); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}

// out is where the progress lines go: stdout in text mode, nowhere with
// --quiet or -o json.
func (c *cronOptions) out() io.Writer {
	if c.quiet || c.output != "text" {
		return io.Discard
	}
	return c.stdout
}

// progressOut is where --use-api prints the CSRs to approve and how long it
// has waited: stdout in text mode, stderr with -o json (so that stdout holds
// only the JSON summary while an operator still sees what to approve), and
// nowhere with --quiet.
func (c *cronOptions) progressOut(errOut io.Writer) io.Writer {
	switch {
	case c.quiet:
		return io.Discard
	case c.output != "text":
		return errOut
	}
	return c.stdout
}

// wait sleeps for the random time of --jitter, or until ctx ends (SIGTERM).
func (c *cronOptions) wait(ctx context.Context) error {
	if c.jitter <= 0 {
		return nil
	}
	d, err := randomDelay(c.rand, c.jitter)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.out(), "[jitter] waiting %s before starting (--jitter %s)\n", d.Round(time.Second), c.jitter)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("interrupted while waiting for --jitter (signal received); nothing was renewed")
	case <-t.C:
	}
	c.summary.JitterSeconds = d.Seconds()
	return nil
}

// randomDelay returns a uniformly random duration in [0, max).
func randomDelay(r io.Reader, max time.Duration) (time.Duration, error) {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, fmt.Errorf("choose a --jitter delay: %w", err)
	}
	return time.Duration(binary.BigEndian.Uint64(b[:]) % uint64(max)), nil
}

// due drops the targets that do not expire within --if-expires-within and
// says why; with "all", also those whose file is missing. When none is
// left it returns the run's end: the CA error, or ExitNothingToDo's; or no
// targets and no error when owed restarts are to be retried.
func (c *cronOptions) due(targets []renewal.Target, certDir, kubeconfigDir string, all bool, now time.Time) ([]renewal.Target, error) {
	if !c.threshold {
		return targets, nil
	}
	s := renewal.Due(targets, certDir, kubeconfigDir, now, c.ifExpiresWithin)
	out := c.out()
	for _, nd := range s.NotDue {
		fmt.Fprintf(out, "[skip] %s: valid until %s (%s left), not within --if-expires-within %s\n", nd.Name, nd.NotAfter.UTC().Format(time.RFC3339), days(nd.NotAfter.Sub(now)), c.ifExpiresWithin)
		c.summary.skip(nd, reasonNotDue)
	}
	for _, b := range s.CABound {
		fmt.Fprintf(out, "[skip] %s: valid until %s (%s left), when its CA %s expires: renewing cannot move its expiry\n", b.Name, b.NotAfter.UTC().Format(time.RFC3339), days(b.NotAfter.Sub(now)), b.CA.File)
		c.summary.skip(b.NotDue, reasonCAExpires)
		c.limitedByCA(b, now)
	}
	due := s.Due
	if all {
		for _, m := range s.Missing {
			file := m.File(certDir, kubeconfigDir)
			fmt.Fprintf(out, "MISSING! %s: %s not found, skipped\n", m.LongName, file)
			c.summary.Skipped = append(c.summary.Skipped, skippedEntry{Name: m.Name, File: file, Reason: reasonMissing})
		}
	} else {
		// A named file that is missing is an error, which Renew gives.
		due = inOrder(targets, s.Due, s.Missing)
	}
	if len(due) > 0 {
		return due, nil
	}
	first := ""
	if len(s.NotDue) > 0 {
		next := slices.MinFunc(s.NotDue, func(a, b renewal.NotDue) int { return a.NotAfter.Compare(b.NotAfter) })
		first = fmt.Sprintf("; the first to expire is %s, on %s", next.Name, next.NotAfter.UTC().Format(time.RFC3339))
	}
	switch {
	case c.retrying():
		fmt.Fprintf(out, "[renew] Nothing to renew: no certificate expires within %s%s; retrying the restarts still owed\n", c.ifExpiresWithin, first)
	case c.caErr == nil:
		fmt.Fprintf(out, "[renew] Nothing to do: no certificate expires within %s%s\n", c.ifExpiresWithin, first)
	}
	return nil, c.nothingLeft()
}

// nothingLeft is the end of a run with nothing left to renew: nil when
// owed restarts are to be retried, else the CA error, else "nothing to do".
func (c *cronOptions) nothingLeft() error {
	switch {
	case c.retrying():
		return nil
	case c.caErr != nil:
		return c.caErr
	}
	return &ExitError{Code: ExitNothingToDo}
}

// limitedByCA records a certificate that renewing cannot move out of the
// window because of its CA.
func (c *cronOptions) limitedByCA(b renewal.CABound, now time.Time) {
	if c.caErr == nil {
		c.caErr = &renewal.CAExpiryError{Now: now, Within: c.ifExpiresWithin}
	}
	c.caErr.Add(b)
}

// inOrder returns the targets of all that are in one of the lists, in the
// order of all.
func inOrder(all []renewal.Target, lists ...[]renewal.Target) []renewal.Target {
	var out []renewal.Target
	for _, t := range all {
		for _, l := range lists {
			if slices.ContainsFunc(l, func(u renewal.Target) bool { return u.Name == t.Name }) {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// stillDue drops, after the lock is taken, the targets that another
// certctl renewed while this one waited for it: two cron runs at once
// renew once.
func (c *cronOptions) stillDue(targets []renewal.Target, certDir, kubeconfigDir string, now time.Time) ([]renewal.Target, error) {
	if !c.threshold || len(targets) == 0 {
		return targets, nil
	}
	s := renewal.Due(targets, certDir, kubeconfigDir, now, c.ifExpiresWithin)
	for _, nd := range s.NotDue {
		fmt.Fprintf(c.out(), "[skip] %s: renewed by another certctl while this one waited for the lock\n", nd.Name)
		c.summary.skip(nd, reasonNotDue)
	}
	for _, b := range s.CABound {
		fmt.Fprintf(c.out(), "[skip] %s: renewed by another certctl while this one waited for the lock, up to its CA's expiry\n", b.Name)
		c.summary.skip(b.NotDue, reasonCAExpires)
		c.limitedByCA(b, now)
	}
	// Renew reports a file that was removed meanwhile.
	if due := inOrder(targets, s.Due, s.Missing); len(due) > 0 {
		return due, nil
	}
	fmt.Fprintln(c.out(), "[renew] Nothing to renew: another certctl renewed everything while this one waited for the lock")
	return nil, c.nothingLeft()
}

func days(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	return d.Round(time.Minute).String()
}

// finish reports the renewal, prunes the backups and restarts the
// components, with those an earlier run left owed; its error is the
// command's. res is empty when the run only retries owed restarts.
func (c *cronOptions) finish(ctx context.Context, res *renewal.Result, certDir, kubeconfigDir string) error {
	out, s := c.out(), c.summary
	s.Warnings = append(s.Warnings, res.Warnings...)
	for _, m := range res.Missing {
		s.Skipped = append(s.Skipped, skippedEntry{Name: m.Name, File: m.File(certDir, kubeconfigDir), Reason: reasonMissing})
	}
	var changed []string
	for _, r := range res.Renewed {
		_, cert := renewal.CurrentCert(r.Target, certDir, kubeconfigDir)
		serial := staticpods.Serial(cert)
		capped := ""
		if r.Capped {
			capped = ", cut to its CA's expiry"
		}
		fmt.Fprintf(out, "[renew] %s renewed: %s (valid until %s%s, serial %s)\n", r.Name, strings.Join(r.Files, ", "), r.NotAfter.UTC().Format(time.RFC3339), capped, serial)
		s.Renewed = append(s.Renewed, renewedEntry{Name: r.Name, Files: r.Files, Serial: serial, NotAfter: r.NotAfter.UTC(), CappedToCA: r.Capped})
		changed = append(changed, r.Files...)
	}
	// A failed prune must not keep the components from restarting: its
	// error waits for the end.
	var pruneErr error
	if len(res.Renewed) > 0 {
		if res.BackupDir != "" {
			s.BackupDir = res.BackupDir
			fmt.Fprintf(out, "[backup] The old files are saved in %s\n", res.BackupDir)
		}
		pruneErr = c.prune(certDir)
	}
	if c.threshold {
		now := time.Now()
		for _, b := range renewal.LimitedByCA(res.Renewed, certDir, now, c.ifExpiresWithin) {
			c.limitedByCA(b, now)
		}
	}
	restarts := res.Restarts()
	for _, r := range restarts {
		s.RestartNeeded = append(s.RestartNeeded, r.Component)
	}
	var err error
	switch {
	case c.restart.enabled && (len(res.Renewed) > 0 || c.retrying()):
		var results []staticpods.Result
		var warnings []string
		var owed *staticpods.Pending
		results, warnings, owed, err = c.restart.restartOwed(ctx, out, certDir, changed, restarts, time.Now())
		s.Restarts, s.Warnings = append(s.Restarts, results...), append(s.Warnings, warnings...)
		if owed != nil {
			c.owed = owed
		}
	case len(res.Renewed) == 0:
	case len(restarts) == 0:
		fmt.Fprintln(out, "[renew] Nothing to restart: clients read admin.conf and super-admin.conf at each use.")
	default:
		var parts []string
		for _, r := range restarts {
			parts = append(parts, fmt.Sprintf("%s (%s)", r.Component, strings.Join(r.Names, ", ")))
		}
		fmt.Fprintf(out, "[renew] Restart these components so that they use the new certificates (or run with --restart-control-plane): %s\n", strings.Join(parts, "; "))
	}
	switch {
	case err != nil:
		return err
	case pruneErr != nil:
		return pruneErr
	case c.caErr != nil:
		return c.caErr
	case len(res.Renewed) > 0 || len(s.Restarts) > 0:
		return nil
	case c.threshold:
		fmt.Fprintln(out, "[renew] Nothing to do: nothing was renewed and no restart is owed")
		return &ExitError{Code: ExitNothingToDo}
	}
	fmt.Fprintln(out, "[renew] Nothing was renewed.")
	return nil
}

// prune applies --keep-backups.
func (c *cronOptions) prune(certDir string) error {
	if c.keepBackups <= 0 {
		return nil
	}
	root, err := renewal.BackupRoot(certDir)
	if err != nil {
		return err
	}
	removed, err := renewal.PruneBackups(root, c.keepBackups)
	for _, d := range removed {
		fmt.Fprintf(c.out(), "[backup] Removed the old backup %s (--keep-backups %d)\n", d, c.keepBackups)
		c.summary.PrunedBackups = append(c.summary.PrunedBackups, d)
	}
	return err
}
