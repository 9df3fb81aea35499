package renewal

import (
	"strings"

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
