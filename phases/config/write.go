package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"strings"

	"sigs.k8s.io/yaml"
)

// Marshal writes c as a kubeadm.k8s.io/v1beta4 configuration file: an
// InitConfiguration (the node's name and API endpoint) and a
// ClusterConfiguration, plus a CertctlConfiguration when c has signer
// names, with the v1beta4 fields certctl reads and nothing else, so that
// the file says exactly what certctl uses. LoadFile reads it back into c,
// except KeepValidity, which no kubeadm field holds (Marshal says so in a
// comment). Settings with KeepValidity are FromCertificates', whose
// serviceSubnet is a guess, and the file says so (MarshalView).
func Marshal(c Cluster) ([]byte, error) { return MarshalView(c, c.KeepValidity) }

// MarshalView is Marshal for `config view`, which knows where the settings
// came from: subnetGuessed says serviceSubnet was derived from the
// certificates (SourceCertificates, no --service-cidr), which the file
// then says in a comment, whatever the validity flags.
func MarshalView(c Cluster, subnetGuessed bool) ([]byte, error) {
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
	leaf, ca := c.CertificateValidity.String(), c.CACertificateValidity.String()
	cl.CertificateValidityPeriod, cl.CACertificateValidityPeriod = &leaf, &ca

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
	if subnetGuessed {
		b.WriteString(subnetComment(c))
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

// subnetComment says that c's serviceSubnet was derived from the
// certificates (FromCertificates), which hold the first service range's
// VIP, not the ranges. An IP of the other family among the certificate's
// extra SANs may be a dual-stack second range's VIP, but its place does
// not say so as the first IP SAN's does (kubeadm puts only the first
// range's VIP in the certificate, first): it is named, with the range it
// would be the first address of, for the reader to decide.
func subnetComment(c Cluster) string {
	var b strings.Builder
	b.WriteString("# serviceSubnet is derived from the service VIP in the apiserver certificate:\n# the range's size and a dual-stack second range are not recorded there;\n# see --service-cluster-ip-range in the kube-apiserver manifest.\n")
	vip, err := c.APIServerVirtualIP()
	if err != nil || strings.Contains(c.ServiceSubnet, ",") {
		return b.String()
	}
	for _, san := range c.APIServerCertSANs {
		ip := net.ParseIP(san)
		if ip == nil || (ip.To4() == nil) == (vip.To4() == nil) {
			continue
		}
		// A VIP is its range's first address: the one after the network's.
		subnet := subnetOf(ip)
		if first, err := (&Cluster{ServiceSubnet: subnet}).APIServerVirtualIP(); err != nil || !first.Equal(ip) {
			continue
		}
		fmt.Fprintf(&b, "# The certificate also holds %s (apiServer.certSANs), of the other IP family:\n# if it is the service VIP of a dual-stack second range, append that range,\n# e.g. serviceSubnet: %s,%s (its size is not recorded either).\n", ip, c.ServiceSubnet, subnet)
	}
	return b.String()
}
