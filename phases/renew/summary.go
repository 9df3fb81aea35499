package renew

import (
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/renewal/apirenew"
)

// The summary `certctl renew -o json|yaml|jsonpath=` prints once, at the
// end, whatever the outcome (docs/cron.md). Within output.certctl.io/v1 fields and values are
// only added, never renamed, removed or given another meaning.
const (
	summaryKind       = "RenewalSummary"
	summaryAPIVersion = "output.certctl.io/v1"
)

// Values of renewSummary.Status.
const (
	statusRenewed = "renewed"
	// statusRestarted: nothing was due, and the restarts an earlier run
	// left owed are done (exit 0).
	statusRestarted   = "restarted"
	statusNothingToDo = "nothing-to-do"
	// statusExternalCA: the others done, but due certificates of an
	// external CA were skipped (exit 5).
	statusExternalCA = "external-ca"
	statusError      = "error"
)

// Summary is what `certctl renew -o json|yaml|jsonpath=` prints.
type Summary struct {
	Kind       string    `json:"kind"`
	APIVersion string    `json:"apiVersion"`
	StartedAt  time.Time `json:"startedAt"`
	FinishedAt time.Time `json:"finishedAt"`
	// Status is "renewed", "restarted", "nothing-to-do", "external-ca" or
	// "error"; ExitCode the process's exit status (0, 0, 2, 5, 1).
	Status   string `json:"status"`
	ExitCode int    `json:"exitCode"`
	Error    string `json:"error,omitempty"`
	// DryRun is --dry-run: the lists say what the real run would do
	// (renewed: would be renewed, without a serial, as nothing is
	// signed; skipped, restartNeeded, prunedPendingKeys: would be), and
	// status and exitCode are the real run's as far as the plan tells;
	// restarts and prunedBackups stay empty, backupDir absent.
	DryRun bool `json:"dryRun"`
	// IfExpiresWithinSeconds is --if-expires-within; 0 when not given
	// (everything named is renewed) or 0s (what has expired).
	IfExpiresWithinSeconds int64 `json:"ifExpiresWithinSeconds"`
	// JitterSeconds is how long the run waited first (--jitter).
	JitterSeconds float64        `json:"jitterSeconds"`
	Renewed       []renewedEntry `json:"renewed"`
	Skipped       []skippedEntry `json:"skipped"`
	Warnings      []string       `json:"warnings"`
	// BackupDir holds the replaced files; "" when nothing was renewed or
	// with --no-backup.
	BackupDir     string   `json:"backupDir,omitempty"`
	PrunedBackups []string `json:"prunedBackups"`
	// PrunedManifestBackups are the folders of old manifests
	// (tmp/certctl-backup-manifests-TIME, saved by the restarts) that
	// --keep-backups removed after this run's restarts; absent when none,
	// so that the documents of runs that prune none stay as they were.
	PrunedManifestBackups []string `json:"prunedManifestBackups,omitempty"`
	// PrunedPendingKeys are the pending keys of --use-api that the run
	// removed first because their certificate is installed: copies of a
	// private key in use, left by a run of an older certctl killed
	// between its install and their removal (the install now removes
	// them in its own transaction). With --dry-run, those it would
	// remove.
	PrunedPendingKeys []prunedPendingKey `json:"prunedPendingKeys"`
	// RestartNeeded lists the components that read renewed files, in
	// restart order; Restarts is what --restart-control-plane did with
	// them (empty without it).
	RestartNeeded []string            `json:"restartNeeded"`
	Restarts      []staticpods.Result `json:"restarts"`
	// PendingRestarts are the restarts still owed when the run ends
	// (staticpods.PendingFileName), this run's and earlier ones'.
	PendingRestarts []staticpods.PendingComponent `json:"pendingRestarts"`
	// ExpiringCAs are the CAs that expire within --if-expires-within,
	// with the certificates that renewing cannot move out of it.
	ExpiringCAs []expiringCA `json:"expiringCAs"`

	// nothingToDo: another run installed the certificates --use-api
	// obtained (exit 0 without --if-expires-within).
	nothingToDo bool
}

// expiringCA is a renewal.CALimit.
type expiringCA struct {
	Name         string    `json:"name"`
	File         string    `json:"file"`
	NotAfter     time.Time `json:"notAfter"`
	Certificates []string  `json:"certificates"`
}

// prunedPendingKey is a pending key of --use-api removed because its
// certificate is installed (apirenew.Stale) or replaced another way
// (apirenew.SupersededBy).
type prunedPendingKey = apirenew.PrunedKey

type renewedEntry struct {
	Name       string    `json:"name"`
	Files      []string  `json:"files"`
	Serial     string    `json:"serial"`
	NotAfter   time.Time `json:"notAfter"`
	CappedToCA bool      `json:"cappedToCA"`
}

// Values of skippedEntry.Reason.
const (
	reasonNotDue  = "not-due"
	reasonMissing = "missing"
	// reasonExternalCA: due, but its CA key is not on this node.
	reasonExternalCA = "external-ca"
	// reasonCAExpires: due, but it already ends when its CA does, so
	// renewing would not move its expiry (see ExpiringCAs).
	reasonCAExpires = "ca-expires"
)

type skippedEntry struct {
	Name     string     `json:"name"`
	File     string     `json:"file"`
	Reason   string     `json:"reason"`
	NotAfter *time.Time `json:"notAfter,omitempty"`
}

func newSummary(now time.Time, within time.Duration) *Summary {
	return &Summary{
		Kind: summaryKind, APIVersion: summaryAPIVersion, StartedAt: now.UTC(),
		IfExpiresWithinSeconds: int64(within / time.Second),
		Renewed:                []renewedEntry{}, Skipped: []skippedEntry{}, Warnings: []string{},
		PrunedBackups: []string{}, PrunedPendingKeys: []prunedPendingKey{}, RestartNeeded: []string{}, Restarts: []staticpods.Result{},
		PendingRestarts: []staticpods.PendingComponent{}, ExpiringCAs: []expiringCA{},
	}
}

// skip records a certificate skipped for reason, with its expiry.
func (s *Summary) skip(nd renewal.NotDue, reason string) {
	na := nd.NotAfter.UTC()
	s.Skipped = append(s.Skipped, skippedEntry{Name: nd.Name, File: nd.File, Reason: reason, NotAfter: &na})
}

// addCAs records the CAs of e, when not nil.
func (s *Summary) addCAs(e *renewal.CAExpiryError) {
	if e == nil {
		return
	}
	for _, l := range e.CAs {
		s.ExpiringCAs = append(s.ExpiringCAs, expiringCA{Name: l.Name, File: l.File, NotAfter: l.NotAfter.UTC(), Certificates: l.Names})
	}
}

// end records the outcome of the run.
func (s *Summary) end(now time.Time, err error) {
	s.FinishedAt = now.UTC()
	s.ExitCode = exitcode.Of(err) // 0 for nil
	switch {
	case err == nil && len(s.Renewed) == 0 && len(s.Restarts) > 0:
		s.Status = statusRestarted
	case err == nil && s.nothingToDo, s.ExitCode == exitcode.NothingToDo:
		s.Status = statusNothingToDo
	case s.ExitCode == exitcode.ExternalCA:
		s.Status = statusExternalCA
	case err == nil:
		s.Status = statusRenewed
	default:
		s.Status = statusError
		s.Error = err.Error()
	}
}

// RestoreSummary is what `certctl restore BACKUP -o json|yaml|jsonpath=`
// prints at the end (output.certctl.io/v1, compatible as Summary is).
type RestoreSummary struct {
	Kind       string `json:"kind"` // "RestoreSummary"
	APIVersion string `json:"apiVersion"`
	// Backup is the folder restored from.
	Backup string `json:"backup"`
	DryRun bool   `json:"dryRun"`
	// ExitCode is the process's exit status (0, or 1 with Error, as
	// Summary's and ImportSummary's): a restore whose restarts failed, a
	// dry run the real restore would fail, and a restore refused before
	// it had anything to report print this summary too.
	ExitCode int    `json:"exitCode"`
	Error    string `json:"error,omitempty"`
	// Restored are the files written back (with DryRun: that would be);
	// Unchanged those that already held the backup's content.
	Restored  []string `json:"restored"`
	Unchanged []string `json:"unchanged"`
	// BackupDir holds the files the restore replaced; "" with --no-backup,
	// a dry run, or when nothing was restored.
	BackupDir string `json:"backupDir,omitempty"`
	// RestartNeeded lists the components that read restored files, in
	// restart order, as Summary.RestartNeeded does for renewed ones (with
	// DryRun: that would read them); Restarts is what
	// --restart-control-plane did with them (empty without it).
	RestartNeeded []string            `json:"restartNeeded"`
	Restarts      []staticpods.Result `json:"restarts"`
	// Warnings are the [warning] lines of the restore: restored files
	// that disagree with the CA files beside them (renewal.RestoreResult),
	// then those of its restarts, as Summary.Warnings.
	Warnings []string `json:"warnings"`
	// PrunedPendingKeys are the pending keys of --use-api the restore
	// removed with the certificates it restored, whose CSRs asked to
	// renew the certificates it replaced (with DryRun: would remove), as
	// Summary's; absent when none, so that the documents of restores
	// that remove none stay as they were.
	PrunedPendingKeys []prunedPendingKey `json:"prunedPendingKeys,omitempty"`
}
