package expiration

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/certctl/certctl/internal/output"
)

// Write prints info in format: "text" (a table whose columns fit 100 columns,
// with a PROBLEMS column, and the problems spelled out below), "wide"
// (kubeadm's own two tables, column for column, plus PROBLEMS), "json" or
// "yaml" (the Info schema), "jsonpath=TEMPLATE", or "prometheus"
// (WriteMetrics).
func Write(w io.Writer, info *Info, format string) error {
	f, err := output.Parse(format, "prometheus")
	if err != nil {
		return err
	}
	if f.Name == "prometheus" {
		return WriteMetrics(w, info)
	}
	return f.Print(w, info, func(w io.Writer, wide bool) error {
		if wide {
			return writeKubeadm(w, info)
		}
		return writeText(w, info)
	})
}

// writeText prints the two tables in columns that fit 100 columns:
// kubeadm's columns with shorter headings and dates (`-o wide` has
// kubeadm's own); on a terminal, a row too wide for it, with many
// problems, is cut (output.CutWidth; the problems are spelled out below
// the tables).
func writeText(w io.Writer, info *Info) error {
	tw := output.NewTable(w, false)
	row := func(c Certificate, ca bool) {
		switch {
		case c.Missing:
			fmt.Fprintf(tw, "!MISSING! %s\t\t\t\t\t\n", c.Name)
		case ca:
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Name, ShortDate(c.ExpirationDate, ""), Residual(c.ExpirationDate, c.ResidualTimeSeconds, ""), yesNo(c.ExternallyManaged), ProblemTypes(c.Problems))
		default:
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, ShortDate(c.ExpirationDate, ""), Residual(c.ExpirationDate, c.ResidualTimeSeconds, ""), c.CAName, yesNo(c.ExternallyManaged), ProblemTypes(c.Problems))
		}
	}
	fmt.Fprintln(tw, "CERTIFICATE\tEXPIRES (UTC)\tRESIDUAL\tCA\tEXTERNAL\tPROBLEMS")
	for _, c := range info.Certificates {
		row(c, false)
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "CA\tEXPIRES (UTC)\tRESIDUAL\tEXTERNAL\tPROBLEMS")
	for _, c := range info.CertificateAuthorities {
		row(c, true)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeBelow(w, info)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// writeKubeadm prints kubeadm's tables (cmd/kubeadm/app/cmd/certs.go,
// certTextPrinter) with the same columns, spacing and date format, so that
// scripts reading kubeadm's columns by position read certctl's -o wide,
// plus a last PROBLEMS column.
func writeKubeadm(w io.Writer, info *Info) error {
	tw := tabwriter.NewWriter(w, 10, 4, 3, ' ', 0)
	fmt.Fprintln(tw, "CERTIFICATE\tEXPIRES\tRESIDUAL TIME\tCERTIFICATE AUTHORITY\tEXTERNALLY MANAGED\tPROBLEMS")
	for _, c := range info.Certificates {
		if c.Missing {
			fmt.Fprintf(tw, "!MISSING! %s\t\t\t\t\t\n", c.Name)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%-8v\t%s\n", c.Name, expires(c), Residual(c.ExpirationDate, c.ResidualTimeSeconds, ""), c.CAName, yesNo(c.ExternallyManaged), ProblemTypes(c.Problems))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "CERTIFICATE AUTHORITY\tEXPIRES\tRESIDUAL TIME\tEXTERNALLY MANAGED\tPROBLEMS")
	for _, c := range info.CertificateAuthorities {
		if c.Missing {
			fmt.Fprintf(tw, "!MISSING! %s\t\t\t\t\n", c.Name)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%-8v\t%s\n", c.Name, expires(c), Residual(c.ExpirationDate, c.ResidualTimeSeconds, ""), yesNo(c.ExternallyManaged), ProblemTypes(c.Problems))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeBelow(w, info)
}

// writeBelow spells out, below the tables, each problem with what to do,
// the restarts still owed and what expires soon.
func writeBelow(w io.Writer, info *Info) error {
	WriteList(w, "PROBLEMS", info.Problems())
	if len(info.RestartsOwed) > 0 {
		fmt.Fprintln(w, "\nRESTARTS OWED (running with the old certificates)")
		for _, r := range info.RestartsOwed {
			why := ""
			if r.Reason != "" {
				why = "; last attempt: " + r.Reason
			}
			fmt.Fprintf(w, "- %s: owed since %s for %s%s\n", r.Component, r.Since.Format(time.RFC3339), strings.Join(r.Files, ", "), why)
		}
		fmt.Fprintf(w, "  %s\n", info.restartHint)
	}
	var soon []string
	for _, c := range info.ExpiringSoon() {
		soon = append(soon, c.Name)
	}
	WriteExpiring(w, info.WarnWithinSeconds, soon)
	return nil
}

// The pieces below are shared by this report and check-expiration
// --cluster's (phases/clusterview), so that both print alike.

// WriteList writes, after a blank line, title and one "- item" line per
// item; nothing when there is none.
func WriteList(w io.Writer, title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s\n", title)
	for _, s := range items {
		fmt.Fprintf(w, "- %s\n", s)
	}
}

// WriteExpiring writes, after a blank line, the line naming what expires
// within warnWithinSeconds (--warn-within); nothing when that is 0 or
// names is empty.
func WriteExpiring(w io.Writer, warnWithinSeconds int64, names []string) {
	if len(names) > 0 && warnWithinSeconds > 0 {
		fmt.Fprintf(w, "\nEXPIRING within %s: %s\n", duration.HumanDuration(time.Duration(warnWithinSeconds)*time.Second), strings.Join(names, ", "))
	}
}

// ShortDate is an EXPIRES (UTC) column: exp to the minute, none when
// there is no expiry.
func ShortDate(exp *time.Time, none string) string {
	if exp == nil {
		return none
	}
	return exp.UTC().Format("2006-01-02 15:04")
}

// Residual is a RESIDUAL column: the time left, seconds, as kubectl prints
// ages; "EXPIRED" when none is left (kubeadm prints "<invalid>"); none
// when there is no expiry (exp nil).
func Residual(exp *time.Time, seconds int64, none string) string {
	switch {
	case exp == nil:
		return none
	case seconds <= 0:
		return "EXPIRED"
	}
	return duration.HumanDuration(time.Duration(seconds) * time.Second)
}

// ProblemTypes is a PROBLEMS column: the problems' types, "-" for none.
func ProblemTypes(ps []Problem) string {
	if len(ps) == 0 {
		return "-"
	}
	ts := make([]string, len(ps))
	for i, p := range ps {
		ts[i] = string(p.Type)
	}
	return strings.Join(ts, ",")
}

func expires(c Certificate) string {
	if c.ExpirationDate == nil {
		return ""
	}
	return c.ExpirationDate.UTC().Format("Jan 02, 2006 15:04 MST")
}
