package carotate

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/certctl/certctl/internal/output"
)

// StatusReport is `certctl ca status -o json|yaml`: apiVersion
// output.certctl.io/v1, kind CARotationStatus. Within v1 fields are only
// added.
type StatusReport struct {
	APIVersion string  `json:"apiVersion"`
	Kind       string  `json:"kind"`
	CAs        []State `json:"cas"`
	// ClusterNotRead says why the cluster records were not read; empty
	// when they were, or when the command was asked not to (NodeOnly).
	ClusterNotRead string `json:"clusterNotRead,omitempty"`
}

// Print writes r in format f: a table per CA for people (wide: every
// file still from the old CA and every fingerprint), or the schema.
func (r StatusReport) Print(w io.Writer, f output.Format) error {
	return f.Print(w, r, func(w io.Writer, wide bool) error {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CA\tSTAGE\tFROM OLD CA\tPROBLEMS\tNEXT")
		for _, s := range r.CAs {
			old := fmt.Sprint(len(s.FromOldCA))
			if wide && len(s.FromOldCA) > 0 {
				old = strings.Join(s.FromOldCA, ",")
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", s.CA, stageText(s.Stage, s.Aborting), old, len(s.Problems), s.Next)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		for _, s := range r.CAs {
			for _, p := range s.Problems {
				fmt.Fprintf(w, "%s: %s\n", s.CA, p)
			}
			if wide && s.OldCA != "" {
				fmt.Fprintf(w, "%s: old CA sha256 %s, new CA sha256 %s\n", s.CA, s.OldCA, s.NewCA)
			}
		}
		return r.printCluster(w)
	})
}

// stageText is a stage for people: "trust (aborting)".
func stageText(stage string, aborting bool) string {
	if aborting {
		return stage + " (aborting)"
	}
	return stage
}
