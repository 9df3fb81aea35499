package config

import "fmt"

// A JoinConfiguration describes a node that joins an existing cluster
// (`kubeadm join --control-plane`): it gives the node's own settings,
// controlPlane.localAPIEndpoint and nodeRegistration, which decide its own
// certificates (the API server's and etcd's SANs, the kubeconfigs' local
// endpoint), while the cluster's settings come from the cluster's
// ClusterConfiguration, a second document of the same file. Its CAs and
// service-account key pair are the cluster's: they come from the
// kubeadm-certs Secret (`certctl certs download`), never made here.

type joinConfiguration struct {
	typeMeta
	DryRun           ignored           `json:"dryRun" only:"v1beta4"`
	NodeRegistration nodeRegistration  `json:"nodeRegistration"`
	CACertPath       ignored           `json:"caCertPath"`
	Discovery        discovery         `json:"discovery"`
	ControlPlane     *joinControlPlane `json:"controlPlane"`
	SkipPhases       ignored           `json:"skipPhases"`
	Patches          ignored           `json:"patches"`
	Timeouts         ignored           `json:"timeouts" only:"v1beta4"`
}

// discovery is how kubeadm join finds and authenticates to the cluster;
// certctl reads only discovery.file.kubeConfigPath, the kubeconfig that
// `certs download` uses by default.
type discovery struct {
	BootstrapToken    ignored        `json:"bootstrapToken,omitempty"`
	File              *fileDiscovery `json:"file,omitempty"`
	TLSBootstrapToken ignored        `json:"tlsBootstrapToken,omitempty"`
	Timeout           ignored        `json:"timeout,omitempty" only:"v1beta3"`
}

type fileDiscovery struct {
	KubeConfigPath string `json:"kubeConfigPath"`
}

type joinControlPlane struct {
	LocalAPIEndpoint apiEndpoint `json:"localAPIEndpoint"`
	CertificateKey   string      `json:"certificateKey"`
}

// applyJoin sets what the JoinConfiguration j (nil: none) of a file with
// kinds (kind → document number) gives: the node's name and its API
// server's endpoint, as an InitConfiguration's, and Joining. The cluster's
// settings must be in the file too. An InitConfiguration, which describes
// the first node, wins: j is then ignored with the warning returned, as
// kubeadm init ignores it.
func applyJoin(c *Cluster, j *joinConfiguration, kinds map[string]int) (warning string, err error) {
	if j == nil {
		return "", nil
	}
	doc := kinds["JoinConfiguration"]
	if init, ok := kinds["InitConfiguration"]; ok {
		return fmt.Sprintf("document %d (JoinConfiguration): ignored, as kubeadm init ignores it: the InitConfiguration of document %d describes this node; for a node that joins, give a file without the InitConfiguration", doc, init), nil
	}
	if j.ControlPlane == nil {
		return "", fmt.Errorf("document %d (JoinConfiguration): no controlPlane: this JoinConfiguration makes a worker node, which has no control-plane certificates; add controlPlane.localAPIEndpoint (advertiseAddress, bindPort) for a control-plane node", doc)
	}
	if _, ok := kinds["ClusterConfiguration"]; !ok {
		return "", fmt.Errorf("document %d (JoinConfiguration): the cluster's settings (certificatesDir, controlPlaneEndpoint, networking, apiServer.certSANs, etcd) are missing: add the cluster's ClusterConfiguration as another document, from `kubectl -n kube-system get configmap kubeadm-config -o jsonpath='{.data.ClusterConfiguration}'`", doc)
	}
	if err := applyInit(c, j.NodeRegistration.Name, j.ControlPlane.LocalAPIEndpoint); err != nil {
		return "", fmt.Errorf("document %d (JoinConfiguration): %w", doc, err)
	}
	c.Joining = true
	return "", nil
}
