package renewal

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/certctl/certctl/pki"
)

// componentOrder is the order in which restarts are listed: etcd first,
// because kube-apiserver cannot start without it.
var componentOrder = []string{Etcd, KubeAPIServer, KubeControllerManager, KubeScheduler}

// Restart is a component to restart and the renewed certificates it reads.
type Restart struct {
	Component string
	Names     []string
}

// NothingToRestart says why a renewal that changed no file a component
// reads only at start needs no restart.
var NothingToRestart = "Nothing to restart: clients read " + strings.Join(pki.Kubeadm().ReadAtEachUse(), " and ") + " at each use."

// Restarts lists the components that must be restarted to use the renewed
// certificates, in componentOrder.
func (r *Result) Restarts() []Restart {
	by := map[string][]string{}
	for _, rn := range r.Renewed {
		for _, c := range rn.Restart {
			by[c] = append(by[c], rn.Name)
		}
	}
	var out []Restart
	for _, c := range componentOrder {
		if len(by[c]) > 0 {
			out = append(out, Restart{Component: c, Names: by[c]})
		}
	}
	return out
}

// WriteSummary prints what was renewed, where the old files are, and what
// to restart.
func (r *Result) WriteSummary(w io.Writer) {
	for _, rn := range r.Renewed {
		capped := ""
		if rn.Capped {
			capped = ", cut to its CA's expiry"
		}
		fmt.Fprintf(w, "%s renewed: %s (valid until %s%s)\n", rn.LongName, strings.Join(rn.Files, ", "), rn.NotAfter.UTC().Format(time.RFC3339), capped)
	}
	if len(r.Renewed) == 0 {
		fmt.Fprintln(w, "\nNothing was renewed.")
		return
	}
	if r.BackupDir != "" {
		fmt.Fprintf(w, "\nThe old files are saved in %s\n", r.BackupDir)
	}
	restarts := r.Restarts()
	if len(restarts) == 0 {
		fmt.Fprintln(w, "\nDone renewing certificates. "+NothingToRestart)
		return
	}
	fmt.Fprintln(w, "\nDone renewing certificates. Restart these components so that they use the new certificates:")
	for _, rs := range restarts {
		fmt.Fprintf(w, "  %-24s (%s)\n", rs.Component, strings.Join(rs.Names, ", "))
	}
}
