package external

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/internal/exitcode"
	"github.com/certctl/certctl/internal/output"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/renewal/apirenew"
)

// ImportSummary is the versioned schema of `certctl certs import -o
// json|yaml|jsonpath=`, printed once at the end. Within
// output.certctl.io/v1 fields are only added, never renamed, removed or
// given another meaning (docs/external-ca.md).
type ImportSummary struct {
	Kind       string `json:"kind"` // "ImportSummary"
	APIVersion string `json:"apiVersion"`
	DryRun     bool   `json:"dryRun"`
	// ExitCode is the process's exit status (0; 2 when a certificate was
	// refused; 1 an error); Error the message then.
	ExitCode int    `json:"exitCode"`
	Error    string `json:"error,omitempty"`
	// Imported are the certificates installed (with DryRun: that would
	// be), and those already installed (unchanged).
	Imported []Imported `json:"imported"`
	Refused  []Refused  `json:"refused"`
	// Pending are the certificate files expected for CSRs not signed yet;
	// Ignored the .crt files that are no certificate of the inventory.
	Pending  []string `json:"pending"`
	Ignored  []string `json:"ignored"`
	Warnings []string `json:"warnings"`
	// BackupDir holds the replaced files; "" when none was replaced.
	BackupDir string `json:"backupDir,omitempty"`
	// PrunedBackups are the old backups --keep-backups removed.
	PrunedBackups []string `json:"prunedBackups"`
	// PrunedPendingKeys are the pending keys of --use-api the import
	// removed with the certificates it installed, whose CSRs asked to
	// renew the certificates it replaced (with DryRun: would remove), as
	// renew's summary lists them; absent when none, so that the documents
	// of imports that remove none stay as they were.
	PrunedPendingKeys []apirenew.PrunedKey `json:"prunedPendingKeys,omitempty"`
	keep              int                  // --keep-backups, which the text names
	// RestartNeeded lists the components to restart, in restart order,
	// each with the certificates it reads.
	RestartNeeded []renewal.Restart `json:"restartNeeded"`
}

// Imported is a certificate installed, or that would be with DryRun.
type Imported struct {
	Name     string    `json:"name"`
	From     string    `json:"from"`  // the signed certificate in the CSR folder
	Files    []string  `json:"files"` // the files replaced or created
	NotAfter time.Time `json:"notAfter"`
	// Unchanged is true when the files already held it: nothing was written.
	Unchanged bool `json:"unchanged"`
	// Restart are the components that read it only when they start.
	Restart []string `json:"-"`
}

// Refused is a signed certificate that was not installed, and why.
type Refused struct {
	Name   string `json:"name"`
	File   string `json:"file"`
	Reason string `json:"reason"`
}

const (
	importSummaryKind = "ImportSummary"
	apiVersion        = "output.certctl.io/v1"
)

// Summary is r as printed, with its kind and version, the run's error
// err and the restarts, and empty lists rather than none.
func (r *ImportSummary) Summary(err error) *ImportSummary {
	s := *r
	s.Kind, s.APIVersion, s.RestartNeeded = importSummaryKind, apiVersion, []renewal.Restart{}
	s.Imported, s.Refused = nonNil(r.Imported), nonNil(r.Refused)
	s.Pending, s.Ignored, s.Warnings = nonNil(r.Pending), nonNil(r.Ignored), nonNil(r.Warnings)
	s.PrunedBackups = nonNil(r.PrunedBackups)
	if err != nil {
		s.ExitCode, s.Error = exitcode.Of(err), err.Error()
	}
	if !r.DryRun { // a dry run has no backup and restarts nothing
		s.RestartNeeded = append(s.RestartNeeded, r.Restarts()...)
	}
	return &s
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Print prints what the import did in f: the lines of WriteSummary (text
// and wide), or the ImportSummary schema with err, the run's error.
func (r *ImportSummary) Print(w io.Writer, f output.Format, err error) error {
	return f.Print(w, r.Summary(err), func(w io.Writer, _ bool) error {
		r.WriteSummary(w)
		return nil
	})
}

// Restarts lists the components that read the installed certificates only
// when they start, each with the names of its certificates, in renew's
// order (renewal.RestartsOf).
func (r *ImportSummary) Restarts() []renewal.Restart {
	return renewal.RestartsOf(func(yield func(string, []string) bool) {
		for _, im := range r.Imported {
			if !im.Unchanged && !yield(im.Name, im.Restart) {
				return
			}
		}
	})
}

// WriteSummary prints, one line each, what was (or with DryRun would be)
// installed, what was refused and why, what still waits for its
// certificate, then where the old files are and what to restart.
func (r *ImportSummary) WriteSummary(w io.Writer) {
	prefix := "[import]"
	verb := "installed"
	if r.DryRun {
		prefix, verb = "[dry-run]", "would be installed"
	}
	for _, im := range r.Imported {
		if im.Unchanged {
			fmt.Fprintf(w, "%s %s: already installed, unchanged (%s)\n", prefix, im.Name, strings.Join(im.Files, ", "))
			continue
		}
		fmt.Fprintf(w, "%s %s %s: %s (valid until %s)\n", prefix, im.Name, verb, strings.Join(im.Files, ", "), im.NotAfter.UTC().Format(time.RFC3339))
	}
	for _, k := range r.PrunedPendingKeys {
		fmt.Fprintln(w, apirenew.SupersededLine("import", k.Name, "imported", r.DryRun))
	}
	for _, rf := range r.Refused {
		fmt.Fprintf(w, "%s REFUSED %s: %s: %s; nothing of it was installed\n", prefix, rf.Name, rf.File, rf.Reason)
	}
	for _, p := range r.Pending {
		fmt.Fprintf(w, "%s waiting: no signed certificate %s yet\n", prefix, p)
	}
	for _, p := range r.Ignored {
		fmt.Fprintf(w, "%s ignored %s: not a certificate of the inventory\n", prefix, p)
	}
	for _, m := range r.Warnings {
		fmt.Fprintf(w, "[warning] %s\n", m)
	}
	if r.DryRun {
		return
	}
	if r.BackupDir != "" {
		fmt.Fprintf(w, "\nThe old files are saved in %s\n", r.BackupDir)
	}
	for _, d := range r.PrunedBackups {
		fmt.Fprintf(w, "Removed the old backup %s (--keep-backups %d)\n", d, r.keep)
	}
	if rs := r.Restarts(); len(rs) > 0 {
		fmt.Fprintln(w, "\nRestart these components, if they run, so that they use the new certificates:")
		for _, c := range rs {
			fmt.Fprintf(w, "  %-24s (%s)\n", c.Component, strings.Join(c.Names, ", "))
		}
	}
	if slices.ContainsFunc(r.Imported, func(im Imported) bool { return !im.Unchanged }) {
		fmt.Fprintln(w, "\nThe CSR folder still holds copies of the private keys: remove it once the control plane runs on the new certificates.")
	}
}

// WriteSummary prints what to hand the CA operator and, then, the command
// that installs the signed certificates.
func (r *CSRResult) WriteSummary(w io.Writer, importCommand string) {
	if len(r.Requested) == 0 {
		fmt.Fprintln(w, "\nNo CSR was written.")
		return
	}
	WriteNextStep(w, importCommand)
}

// WriteNextStep says what to do with the CSRs of a --use-csr run (renew or
// init-phase): what to hand the CA operator, and the exact command that
// installs what it signs.
func WriteNextStep(w io.Writer, importCommand string) {
	fmt.Fprintln(w, "\nHand the CA operator the .csr and .request.json files (never the .key and .conf files: they hold the new private keys).")
	fmt.Fprintln(w, "Each request file says what to sign: the CA, key usages, extended key usages, SANs and validity (docs/external-ca.md).")
	fmt.Fprintf(w, "Put each signed certificate where its request file says (NAME.crt next to NAME.csr), then run:\n\n  %s\n", importCommand)
}
