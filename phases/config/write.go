package config

import (
	"bytes"
	"fmt"

	"sigs.k8s.io/yaml"
)

// The documents Marshal writes: the v1beta4 fields certctl reads, nothing
// else, so that the file says exactly what certctl uses.
type outInit struct {
	APIVersion       string `json:"apiVersion"`
	Kind             string `json:"kind"`
	NodeRegistration struct {
		Name string `json:"name,omitempty"`
	} `json:"nodeRegistration"`
	LocalAPIEndpoint struct {
		AdvertiseAddress string `json:"advertiseAddress,omitempty"`
		BindPort         int32  `json:"bindPort"`
	} `json:"localAPIEndpoint"`
}

type outCluster struct {
	APIVersion           string `json:"apiVersion"`
	Kind                 string `json:"kind"`
	ClusterName          string `json:"clusterName"`
	ControlPlaneEndpoint string `json:"controlPlaneEndpoint,omitempty"`
	CertificatesDir      string `json:"certificatesDir"`
	Networking           struct {
		ServiceSubnet string `json:"serviceSubnet"`
		DNSDomain     string `json:"dnsDomain"`
	} `json:"networking"`
	APIServer struct {
		CertSANs []string `json:"certSANs,omitempty"`
	} `json:"apiServer"`
	Etcd struct {
		Local *struct {
			ServerCertSANs []string `json:"serverCertSANs,omitempty"`
			PeerCertSANs   []string `json:"peerCertSANs,omitempty"`
		} `json:"local,omitempty"`
		External *ExternalEtcd `json:"external,omitempty"`
	} `json:"etcd"`
	EncryptionAlgorithm         string `json:"encryptionAlgorithm"`
	CertificateValidityPeriod   string `json:"certificateValidityPeriod"`
	CACertificateValidityPeriod string `json:"caCertificateValidityPeriod"`
}

// Marshal writes c as a kubeadm.k8s.io/v1beta4 configuration file: an
// InitConfiguration (the node's name and API endpoint) and a
// ClusterConfiguration, plus a CertctlConfiguration when c has signer
// names. LoadFile reads it back into c, except KeepValidity, which no
// kubeadm field holds (Marshal says so in a comment).
func Marshal(c Cluster) ([]byte, error) {
	var in outInit
	in.APIVersion, in.Kind = kubeadmGroupV1beta4, "InitConfiguration"
	in.NodeRegistration.Name = c.NodeName
	in.LocalAPIEndpoint.AdvertiseAddress, in.LocalAPIEndpoint.BindPort = c.AdvertiseAddress, c.BindPort

	var cl outCluster
	cl.APIVersion, cl.Kind = kubeadmGroupV1beta4, "ClusterConfiguration"
	cl.ClusterName, cl.ControlPlaneEndpoint, cl.CertificatesDir = c.ClusterName, c.ControlPlaneEndpoint, c.CertificatesDir
	cl.Networking.ServiceSubnet, cl.Networking.DNSDomain = c.ServiceSubnet, c.DNSDomain
	cl.APIServer.CertSANs = c.APIServerCertSANs
	if c.ExternalEtcd {
		ext := c.EtcdExternal
		cl.Etcd.External = &ext
	} else {
		cl.Etcd.Local = &struct {
			ServerCertSANs []string `json:"serverCertSANs,omitempty"`
			PeerCertSANs   []string `json:"peerCertSANs,omitempty"`
		}{c.EtcdServerCertSANs, c.EtcdPeerCertSANs}
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
