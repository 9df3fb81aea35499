package phases

import "fmt"

// joinKubeconfigs are the kubeconfig files `kubeadm join --control-plane`
// writes (CreateJoinControlPlaneKubeConfigFiles in kubeadm v1.37):
// super-admin.conf is the first node's alone, and the kubelet makes its
// own kubelet.conf by TLS bootstrap.
var joinKubeconfigs = map[string]bool{"kubeconfig/admin": true, "kubeconfig/controller-manager": true, "kubeconfig/scheduler": true}

// JoinKubeconfigs keeps, of the "kubeconfig/..." phases ps, those of a
// node that joins the control plane.
func JoinKubeconfigs(ps []Phase) []Phase {
	var out []Phase
	for _, p := range ps {
		if joinKubeconfigs[p.Name] {
			out = append(out, p)
		}
	}
	return out
}

// errJoinNeeds is the error for a CA or the service-account key pair
// missing on a node that joins (config.Cluster.Joining): it must have the
// cluster's, the very files every other node has, so certctl makes none.
func errJoinNeeds(path, name string) error {
	return fmt.Errorf("%s is missing: a joining control-plane node uses the cluster's %s, never a new one: run `certctl certs download --certificate-key KEY` first (after `certctl certs upload` on a control-plane node; docs/ha.md), or copy it from a control-plane node", path, name)
}
