package renewal

import (
	"iter"
	"strings"

	"github.com/certctl/certctl/pki"
)

// componentOrder is the order in which restarts are listed: etcd first,
// because kube-apiserver cannot start without it; the kubelet, which
// systemd restarts, last.
var componentOrder = []string{pki.Etcd, pki.KubeAPIServer, pki.KubeControllerManager, pki.KubeScheduler, pki.Kubelet}

// Restart is a component to restart and the renewed certificates it reads,
// as `certs import -o json` prints it (external.ImportSummary).
type Restart struct {
	Component string   `json:"component"`
	Names     []string `json:"certificates"`
}

// NothingToRestart says why a renewal that changed no file a component
// reads only at start needs no restart.
var NothingToRestart = "Nothing to restart: clients read " + strings.Join(pki.Kubeadm().ReadAtEachUse(), " and ") + " at each use."

// Restarts lists the components that must be restarted to use the renewed
// certificates, in componentOrder.
func (r *Result) Restarts() []Restart {
	return RestartsOf(func(yield func(string, []string) bool) {
		for _, rn := range r.Renewed {
			if !yield(rn.Name, rn.Restart) {
				return
			}
		}
	})
}

// RestartsOf groups the certificates of installed, by name, under the
// components that read them only when they start, in componentOrder:
// renew's and certs import's one order.
func RestartsOf(installed iter.Seq2[string, []string]) []Restart {
	by := map[string][]string{}
	for name, components := range installed {
		for _, c := range components {
			by[c] = append(by[c], name)
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
