package expiration

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"k8s.io/apimachinery/pkg/util/duration"
	"sigs.k8s.io/yaml"
)

// Formats lists the output formats of Write.
var Formats = []string{"text", "json", "yaml", "prometheus"}

// Write prints info in format: "text" (kubeadm's two tables, with a
// PROBLEMS column and the problems spelled out below), "json" or "yaml"
// (the Info schema), or "prometheus" (WriteMetrics).
func Write(w io.Writer, info *Info, format string) error {
	switch format {
	case "", "text":
		return writeText(w, info)
	case "json":
		b, err := json.MarshalIndent(info, "", "  ")
		if err != nil {
			return fmt.Errorf("encode report: %w", err)
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	case "yaml":
		b, err := yaml.Marshal(info)
		if err != nil {
			return fmt.Errorf("encode report: %w", err)
		}
		_, err = w.Write(b)
		return err
	case "prometheus":
		return WriteMetrics(w, info)
	}
	return fmt.Errorf("unknown output format %q: use %s", format, strings.Join(Formats, ", "))
}

// writeText prints kubeadm's tables (cmd/kubeadm/app/cmd/certs.go,
// certTextPrinter) with the same columns, spacing and date format, so that
// scripts reading kubeadm's columns by position read certctl's, plus a
// last PROBLEMS column.
func writeText(w io.Writer, info *Info) error {
	yesNo := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
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
