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

// Formats lists the output formats of Write: internal/output's (but for
// jsonpath=TEMPLATE, which takes a template) and "prometheus".
var Formats = []string{"text", "wide", "json", "yaml", "prometheus"}

// Write prints info in format: "text" (a table of at most 100 columns,
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

// writeText prints the two tables in under 100 columns (or the terminal's
// width: output.Width): kubeadm's columns with shorter headings and dates
// (`-o wide` has kubeadm's own); a row too wide, with many problems, is cut
// (the problems are spelled out below the tables).
func writeText(w io.Writer, info *Info) error {
	tw := output.NewTable(w, false)
	row := func(c Certificate, ca bool) {
		switch {
		case c.Missing:
			fmt.Fprintf(tw, "!MISSING! %s\t\t\t\t\t\n", c.Name)
		case ca:
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.Name, shortExpires(c), residual(c), yesNo(c.ExternallyManaged), problemTypes(c))
		default:
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.Name, shortExpires(c), residual(c), c.CAName, yesNo(c.ExternallyManaged), problemTypes(c))
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

func shortExpires(c Certificate) string {
	if c.ExpirationDate == nil {
		return ""
	}
	return c.ExpirationDate.UTC().Format("2006-01-02 15:04")
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
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%-8v\t%s\n", c.Name, expires(c), residual(c), c.CAName, yesNo(c.ExternallyManaged), problemTypes(c))
	}
	fmt.Fprintln(tw)
	fmt.Fprintln(tw, "CERTIFICATE AUTHORITY\tEXPIRES\tRESIDUAL TIME\tEXTERNALLY MANAGED\tPROBLEMS")
	for _, c := range info.CertificateAuthorities {
		if c.Missing {
			fmt.Fprintf(tw, "!MISSING! %s\t\t\t\t\n", c.Name)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%-8v\t%s\n", c.Name, expires(c), residual(c), yesNo(c.ExternallyManaged), problemTypes(c))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return writeBelow(w, info)
}

// writeBelow spells out, below the tables, each problem with what to do,
// the restarts still owed and what expires soon.
func writeBelow(w io.Writer, info *Info) error {
	if problems := info.Problems(); len(problems) > 0 {
		fmt.Fprintln(w, "\nPROBLEMS")
		for _, p := range problems {
			fmt.Fprintf(w, "- %s\n", p)
		}
	}
	if len(info.RestartsOwed) > 0 {
		fmt.Fprintln(w, "\nRESTARTS OWED (running with the old certificates)")
		for _, r := range info.RestartsOwed {
			why := ""
			if r.Reason != "" {
				why = "; last attempt: " + r.Reason
			}
			fmt.Fprintf(w, "- %s: owed since %s for %s%s\n", r.Component, r.Since.Format(time.RFC3339), strings.Join(r.Files, ", "), why)
		}
		fmt.Fprintf(w, "  %s\n", restartHint)
	}
	if soon := info.ExpiringSoon(); len(soon) > 0 && info.WarnWithinSeconds > 0 {
		names := make([]string, len(soon))
		for i, c := range soon {
			names[i] = c.Name
		}
		fmt.Fprintf(w, "\nEXPIRING within %s: %s\n", duration.HumanDuration(time.Duration(info.WarnWithinSeconds)*time.Second), strings.Join(names, ", "))
	}
	return nil
}

func expires(c Certificate) string {
	if c.ExpirationDate == nil {
		return ""
	}
	return c.ExpirationDate.UTC().Format("Jan 02, 2006 15:04 MST")
}

func residual(c Certificate) string {
	if c.ExpirationDate == nil {
		return ""
	}
	if c.ResidualTimeSeconds <= 0 {
		// kubeadm prints "<invalid>" here.
		return "EXPIRED"
	}
	return duration.HumanDuration(time.Duration(c.ResidualTimeSeconds) * time.Second)
}

func problemTypes(c Certificate) string {
	if len(c.Problems) == 0 {
		return "-"
	}
	ts := make([]string, len(c.Problems))
	for i, p := range c.Problems {
		ts[i] = string(p.Type)
	}
	return strings.Join(ts, ",")
}
