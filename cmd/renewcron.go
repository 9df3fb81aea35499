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

	"github.com/certctl/certctl/renewal"
	"github.com/certctl/certctl/staticpods"
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

	rand    io.Reader // for --jitter
	stdout  io.Writer
	summary *renewSummary
}

func newCronOptions() cronOptions { return cronOptions{rand: rand.Reader} }

func (c *cronOptions) addTo(fs *pflag.FlagSet) {
	fs.DurationVar(&c.ifExpiresWithin, "if-expires-within", 0, "renew only the certificates that expire within this duration (cron: 720h), and say why each other one is skipped; exit 2 when none does")
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
	if c.ifExpiresWithin < 0 || c.jitter < 0 || c.keepBackups < 0 {
		return fmt.Errorf("--if-expires-within, --jitter and --keep-backups must not be negative")
	}
	return c.restart.validate(cmd)
}

// wrap runs the command and, with -o json, prints the summary whatever
// happened.
func (c *cronOptions) wrap(cmd *cobra.Command, run func() error) error {
	c.stdout = cmd.OutOrStdout()
	c.summary = newRenewSummary(time.Now(), c.ifExpiresWithin)
	err := run()
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
		return fmt.Errorf("stopped while waiting for --jitter: %w", ctx.Err())
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
// says why; it returns ExitNothingToDo's error when none is left.
func (c *cronOptions) due(targets []renewal.Target, certDir, kubeconfigDir string, now time.Time) ([]renewal.Target, error) {
	if c.ifExpiresWithin <= 0 {
		return targets, nil
	}
	due, notDue := renewal.Due(targets, certDir, kubeconfigDir, now, c.ifExpiresWithin)
	out := c.out()
	for _, s := range notDue {
		left := s.NotAfter.Sub(now)
		fmt.Fprintf(out, "[skip] %s: valid until %s (%s left), not within --if-expires-within %s\n", s.Name, s.NotAfter.UTC().Format(time.RFC3339), days(left), c.ifExpiresWithin)
		na := s.NotAfter.UTC()
		c.summary.Skipped = append(c.summary.Skipped, skippedEntry{Name: s.Name, File: s.File, Reason: reasonNotDue, NotAfter: &na})
	}
	if len(due) > 0 {
		return due, nil
	}
	next := slices.MinFunc(notDue, func(a, b renewal.NotDue) int { return a.NotAfter.Compare(b.NotAfter) })
	fmt.Fprintf(out, "[renew] Nothing to do: no certificate expires within %s; the first to expire is %s, on %s\n", c.ifExpiresWithin, next.Name, next.NotAfter.UTC().Format(time.RFC3339))
	return nil, &ExitError{Code: ExitNothingToDo}
}

// stillDue drops, after the lock is taken, the targets that another
// certctl renewed while this one waited for it: two cron runs at once
// renew once.
func (c *cronOptions) stillDue(targets []renewal.Target, certDir, kubeconfigDir string, now time.Time) ([]renewal.Target, error) {
	if c.ifExpiresWithin <= 0 {
		return targets, nil
	}
	due, notDue := renewal.Due(targets, certDir, kubeconfigDir, now, c.ifExpiresWithin)
	for _, s := range notDue {
		fmt.Fprintf(c.out(), "[skip] %s: renewed by another certctl while this one waited for the lock\n", s.Name)
		na := s.NotAfter.UTC()
		c.summary.Skipped = append(c.summary.Skipped, skippedEntry{Name: s.Name, File: s.File, Reason: reasonNotDue, NotAfter: &na})
	}
	if len(due) == 0 {
		fmt.Fprintln(c.out(), "[renew] Nothing to do: another certctl renewed everything while this one waited for the lock")
		return nil, &ExitError{Code: ExitNothingToDo}
	}
	return due, nil
}

func days(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	return d.Round(time.Minute).String()
}

// finish reports the renewal, prunes the backups and restarts the
// components; its error is the command's.
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
	if len(res.Renewed) == 0 {
		fmt.Fprintln(out, "[renew] Nothing was renewed.")
		return nil
	}
	if res.BackupDir != "" {
		s.BackupDir = res.BackupDir
		fmt.Fprintf(out, "[backup] The old files are saved in %s\n", res.BackupDir)
	}
	if err := c.prune(certDir); err != nil {
		return err
	}
	restarts := res.Restarts()
	for _, r := range restarts {
		s.RestartNeeded = append(s.RestartNeeded, r.Component)
	}
	if c.restart.enabled {
		results, warnings, err := c.restart.restart(ctx, out, changed, restarts)
		s.Restarts, s.Warnings = results, append(s.Warnings, warnings...)
		return err
	}
	if len(restarts) == 0 {
		fmt.Fprintln(out, "[renew] Nothing to restart: clients read admin.conf and super-admin.conf at each use.")
		return nil
	}
	var parts []string
	for _, r := range restarts {
		parts = append(parts, fmt.Sprintf("%s (%s)", r.Component, strings.Join(r.Names, ", ")))
	}
	fmt.Fprintf(out, "[renew] Restart these components so that they use the new certificates (or run with --restart-control-plane): %s\n", strings.Join(parts, "; "))
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
