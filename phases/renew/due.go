package renew

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/phases/renewal"
)

// wait sleeps for the random time of --jitter, or until ctx ends (SIGTERM).
func (r *run) wait(ctx context.Context) error {
	if r.o.Jitter <= 0 {
		return nil
	}
	d, err := randomDelay(r.o.Rand, r.o.Jitter)
	if err != nil {
		return err
	}
	fmt.Fprintf(r.out(), "[jitter] waiting %s before starting (--jitter %s)\n", d.Round(time.Second), r.o.Jitter)
	// The summary gives the chosen jitter also when a signal ends the wait.
	r.summary.JitterSeconds = d.Seconds()
	if err := r.o.Sleep(ctx, d); err != nil {
		return fmt.Errorf("wait for --jitter: %w; nothing was renewed", err)
	}
	return nil
}

// randomDelay returns a uniformly random duration in [0, max).
func randomDelay(rd io.Reader, max time.Duration) (time.Duration, error) {
	var b [8]byte
	if _, err := io.ReadFull(rd, b[:]); err != nil {
		return 0, fmt.Errorf("choose a --jitter delay: %w", err)
	}
	return time.Duration(binary.BigEndian.Uint64(b[:]) % uint64(max)), nil
}

// due drops the targets that do not expire within --if-expires-within and
// says why; with "all", also those whose file is missing. When none is
// left it returns the run's end: the CA error, or "nothing to do"; or no
// targets and no error when owed restarts are to be retried.
func (r *run) due(targets []renewal.Target, all bool) ([]renewal.Target, error) {
	o := &r.o
	if !o.Threshold {
		return targets, nil
	}
	certDir, now := o.Cluster.CertificatesDir, o.Now()
	s := renewal.Due(targets, certDir, o.KubeconfigDir, now, o.IfExpiresWithin)
	out := r.out()
	for _, nv := range s.NotYetValid {
		fmt.Fprintf(out, "[renew] %s: valid only from %s (%s after this host's clock), which every client rejects until then: renewed now, whenever it expires\n", nv.Name, nv.NotBefore.UTC().Format(time.RFC3339), nv.NotBefore.Sub(now).Round(time.Second))
	}
	for _, nd := range s.NotDue {
		fmt.Fprintf(out, "[skip] %s: valid until %s (%s left), not within --if-expires-within %s\n", nd.Name, nd.NotAfter.UTC().Format(time.RFC3339), days(nd.NotAfter.Sub(now)), o.IfExpiresWithin)
		r.summary.skip(nd, reasonNotDue)
	}
	for _, b := range s.CABound {
		// A CA that has expired, not one that expires in minus 720h.
		expires := "expires"
		if !b.CA.NotAfter.After(now) {
			expires = "expired"
		}
		if b.NotAfter.After(b.CA.NotAfter) { // issued to outlive its CA
			fmt.Fprintf(out, "[skip] %s: valid until %s, but its CA %s %s at %s (%s): renewing cannot move its expiry\n", b.Name, b.NotAfter.UTC().Format(time.RFC3339), b.CA.File, expires, b.CA.NotAfter.UTC().Format(time.RFC3339), left(b.CA.NotAfter, now))
		} else {
			fmt.Fprintf(out, "[skip] %s: valid until %s (%s), when its CA %s %s: renewing cannot move its expiry\n", b.Name, b.NotAfter.UTC().Format(time.RFC3339), left(b.NotAfter, now), b.CA.File, expires)
		}
		r.summary.skip(b.NotDue, reasonCAExpires)
		r.limitedByCA(b, now)
	}
	due := s.Due
	if all {
		for _, m := range s.Missing {
			file := m.File(certDir, o.KubeconfigDir)
			fmt.Fprintf(out, "MISSING! %s: %s not found, skipped\n", m.LongName, file)
			r.summary.Skipped = append(r.summary.Skipped, skippedEntry{Name: m.Name, File: file, Reason: reasonMissing})
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
	return nil, r.nothingLeft(fmt.Sprintf("no certificate expires within %s%s", o.IfExpiresWithin, first))
}

// anotherRenewed is why a run has nothing to renew when another certctl
// renewed what was due while this one waited for the lock, from the CAs
// on disk (stillDue) or through the certificates API (settle).
const anotherRenewed = "another certctl renewed them while this one waited for the lock"

// nothingLeft is the end of a run with nothing left to renew, why
// saying why: nil when owed restarts are to be retried ("Nothing to
// renew: WHY; retrying the restarts still owed"), else the CA error,
// which says it all, else status 2 with "Nothing to do: WHY", the one
// line every run that ends so prints.
func (r *run) nothingLeft(why string) error {
	switch {
	case r.retrying():
		fmt.Fprintf(r.out(), "[renew] Nothing to renew: %s; retrying the restarts still owed\n", why)
		return nil
	case r.caErr != nil:
		return r.caErr
	}
	fmt.Fprintf(r.out(), "[renew] Nothing to do: %s\n", why)
	return &exitcode.Error{Code: exitcode.NothingToDo}
}

// limitedByCA records a certificate that renewing cannot move out of the
// window because of its CA.
func (r *run) limitedByCA(b renewal.CABound, now time.Time) {
	if r.caErr == nil {
		r.caErr = &renewal.CAExpiryError{Now: now, Within: r.o.IfExpiresWithin}
	}
	r.caErr.Add(b)
}

// inOrder returns the targets of all that are in one of the lists, in the
// order of all.
func inOrder(all []renewal.Target, lists ...[]renewal.Target) []renewal.Target {
	in := slices.Concat(lists...)
	return slices.DeleteFunc(slices.Clone(all), func(t renewal.Target) bool {
		return !slices.ContainsFunc(in, func(u renewal.Target) bool { return u.Name == t.Name })
	})
}

// stillDue drops, after the lock is taken, the targets that another
// certctl renewed while this one waited for it: two cron runs at once
// renew once.
func (r *run) stillDue(targets []renewal.Target) ([]renewal.Target, error) {
	o := &r.o
	if !o.Threshold || len(targets) == 0 {
		return targets, nil
	}
	now := o.Now()
	s := renewal.Due(targets, o.Cluster.CertificatesDir, o.KubeconfigDir, now, o.IfExpiresWithin)
	for _, nd := range s.NotDue {
		fmt.Fprintf(r.out(), "[skip] %s: renewed by another certctl while this one waited for the lock\n", nd.Name)
		r.summary.skip(nd, reasonNotDue)
	}
	for _, b := range s.CABound {
		fmt.Fprintf(r.out(), "[skip] %s: renewed by another certctl while this one waited for the lock, up to its CA's expiry\n", b.Name)
		r.summary.skip(b.NotDue, reasonCAExpires)
		r.limitedByCA(b, now)
	}
	// Renew reports a file that was removed meanwhile.
	if due := inOrder(targets, s.Due, s.Missing); len(due) > 0 {
		return due, nil
	}
	return nil, r.nothingLeft(anotherRenewed)
}

// left says how long until t, "13d left", or, once t has passed, how
// long ago it was, "30d ago".
func left(t, now time.Time) string {
	if d := t.Sub(now); d >= 0 {
		return days(d) + " left"
	}
	return days(now.Sub(t)) + " ago"
}

func days(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%dd", int(d.Hours()/24))
	}
	return d.Round(time.Minute).String()
}
