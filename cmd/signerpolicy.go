package cmd

import (
	"strings"

	"github.com/spf13/pflag"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

// policyFlags decide which control-plane certificates may be approved and
// signed: the cluster's settings (kubeadm's --config and flags, as for
// init-phase), the control-plane nodes, and who may ask.
type policyFlags struct {
	cluster         clusterFlags
	api             *apiFlags // --kubeconfig and --context (readConfigMapWith)
	nodes           []string
	allowMasters    bool
	requesterGroups []string
	requesterUsers  []string
}

// addTo adds the flags. hidden names clusterFlags that mean nothing to the
// command; withRequesters adds the approver's requester flags.
func (f *policyFlags) addTo(fs *pflag.FlagSet, withRequesters bool, hidden ...string) {
	f.cluster.addTo(fs)
	for _, h := range append([]string{"encryption-algorithm", "ca-certificate-validity"}, hidden...) {
		_ = fs.MarkHidden(h)
	}
	f.addNodesTo(fs)
	fs.BoolVar(&f.allowMasters, "allow-system-masters", false, "also issue certificates with O="+pki.MastersGroup+" ("+pki.SuperAdminKubeconfig+"), which bypass all authorization")
	if withRequesters {
		f.addRequestersTo(fs)
	}
}

// addRequestersTo adds approve's requester rule alone (sign).
func (f *policyFlags) addRequestersTo(fs *pflag.FlagSet) {
	fs.StringSliceVar(&f.requesterGroups, "requester-group", nil, "group allowed to request control-plane certificates, repeatable (default: "+strings.Join(signer.DefaultRequesterGroups, ", ")+" unless --requester-user is given)")
	fs.StringSliceVar(&f.requesterUsers, "requester-user", nil, "user allowed to request control-plane certificates, repeatable")
}

// addNodesTo adds --control-plane-node alone (sign, whose --config is
// its signing configuration's old spelling).
func (f *policyFlags) addNodesTo(fs *pflag.FlagSet) {
	fs.StringSliceVar(&f.nodes, "control-plane-node", nil, "NAME=IP of each control-plane node whose certificates may be issued, repeatable, instead of the control-plane Nodes of the cluster (default: those Nodes at their InternalIP and the addresses their kube-apiserver and etcd mirror pods advertise; while there are none, this node, from --node-name and --apiserver-advertise-address)")
}

// rules are the flags' rules (signer.NodeRules).
func (f *policyFlags) rules() signer.NodeRules {
	r := signer.NodeRules{
		PolicyOptions:     signer.PolicyOptions{AllowSystemMasters: f.allowMasters, RequesterGroups: f.requesterGroups, RequesterUsers: f.requesterUsers},
		ControlPlaneNodes: f.nodes, FromConfigMap: f.cluster.configFile == "",
	}
	if f.api != nil {
		r.Kubeconfig = f.api.kubeconfig
	}
	return r
}

// readConfigMapWith makes the settings, without --config, come from the
// kubeadm-config ConfigMap of the cluster whose CSRs the command approves
// or signs, read with api's client (--kubeconfig, then $KUBECONFIG, ...:
// docs/renew.md), as the control-plane Nodes are: approve, sign and signer
// run then judge a request by the same settings. Not with
// /etc/kubernetes/admin.conf, which the node-folder commands read, and
// which may be absent or another cluster's.
func (f *policyFlags) readConfigMapWith(api *apiFlags) {
	f.api = api
	f.cluster.connect = func(string) (config.ConfigMapGetter, string, error) {
		c, err := api.client()
		if err != nil {
			return nil, "", err
		}
		return c.CoreV1().ConfigMaps(config.ConfigMapNamespace), c.Source, nil
	}
}
