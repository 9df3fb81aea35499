package config

import (
	"bytes"
	"encoding/json"
	"fmt"

	"sigs.k8s.io/yaml"
)

// Marshal writes c as a kubeadm.k8s.io/v1beta4 configuration file: an
// InitConfiguration (the node's name and API endpoint) and a
// ClusterConfiguration, plus a CertctlConfiguration when c has signer
// names, with the v1beta4 fields certctl reads and nothing else, so that
// the file says exactly what certctl uses. LoadFile reads it back into c,
// except KeepValidity, which no kubeadm field holds (Marshal says so in a
// comment).
func Marshal(c Cluster) ([]byte, error) {
	var in initConfiguration
	in.APIVersion, in.Kind = kubeadmGroupV1beta4, "InitConfiguration"
	in.NodeRegistration.Name = c.NodeName
	in.LocalAPIEndpoint = apiEndpoint{c.AdvertiseAddress, c.BindPort}

	var cl clusterConfigurationV1beta4
	cl.APIVersion, cl.Kind = kubeadmGroupV1beta4, "ClusterConfiguration"
	cl.ClusterName, cl.ControlPlaneEndpoint, cl.CertificatesDir = c.ClusterName, c.ControlPlaneEndpoint, c.CertificatesDir
	cl.Networking.ServiceSubnet, cl.Networking.DNSDomain = c.ServiceSubnet, c.DNSDomain
	cl.APIServer.CertSANs = c.APIServerCertSANs
	if c.ExternalEtcd {
		cl.Etcd.External, _ = json.Marshal(c.EtcdExternal) // strings only: cannot fail
	} else {
		cl.Etcd.Local = &localEtcd{ServerCertSANs: c.EtcdServerCertSANs, PeerCertSANs: c.EtcdPeerCertSANs}
	}
	cl.EncryptionAlgorithm = c.EncryptionAlgorithm
	cl.CertificateValidityPeriod = c.CertificateValidity.String()
	cl.CACertificateValidityPeriod = c.CACertificateValidity.String()

	docs := []any{in, cl}
	if len(c.SignerNames) > 0 {
		var cc certctlConfiguration
		cc.APIVersion, cc.Kind, cc.Renewal.SignerNames = CertctlGroup, CertctlKind, c.SignerNames
		docs = append(docs, cc)
	}
	var b bytes.Buffer
	if c.KeepValidity {
		fmt.Fprintf(&b, "# certificateValidityPeriod is the apiserver certificate's: without a\n# configuration, renewal keeps each certificate's own validity period.\n")
		// Derived from the certificates (FromCertificates), which hold the
		// first service range's VIP, not the ranges.
		fmt.Fprintf(&b, "# serviceSubnet is derived from the service VIP in the apiserver certificate:\n# the range's size and a dual-stack second range are not recorded there;\n# see --service-cluster-ip-range in the kube-apiserver manifest.\n")
	}
	for i, d := range docs {
		y, err := yaml.Marshal(d)
		if err != nil {
			return nil, fmt.Errorf("write the configuration: %w", err)
		}
		if i > 0 {
			b.WriteString("---\n")
		}
		b.Write(y)
	}
	return b.Bytes(), nil
}
