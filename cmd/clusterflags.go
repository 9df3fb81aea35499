package cmd

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	utilnet "k8s.io/apimachinery/pkg/util/net"

	"github.com/certctl/certctl/phases/config"
)

// clusterFlags are the kubeadm-compatible flags that decide certificates.
// Precedence, as in kubeadm: defaults, then --config, then flags given.
type clusterFlags struct {
	configFile           string
	certDir              string
	advertiseAddress     string
	bindPort             int32
	extraSANs            []string
	controlPlaneEndpoint string
	serviceCIDR          string
	dnsDomain            string
	nodeName             string
	encryptionAlgorithm  string
	certValidity         time.Duration
	caValidity           time.Duration

	// resolveAddress picks the advertise address when it is empty or
	// unspecified, preferring the family of its argument (nil: IPv4);
	// nil means utilnet.ResolveBindAddress, the default route's interface.
	resolveAddress func(family net.IP) (net.IP, error)
}

func (f *clusterFlags) addTo(fs *pflag.FlagSet) {
	d := config.Default()
	fs.StringVar(&f.configFile, "config", "", "kubeadm configuration file (kubeadm.k8s.io/v1beta4 InitConfiguration, or JoinConfiguration for a joining control-plane node, and ClusterConfiguration; v1beta3 is read as kubeadm v1.36 read it)")
	fs.StringVar(&f.certDir, "cert-dir", d.CertificatesDir, "folder of the certificates (certificatesDir)")
	fs.StringVar(&f.advertiseAddress, "apiserver-advertise-address", "", "IP address the API server advertises (localAPIEndpoint.advertiseAddress); when empty or unspecified (0.0.0.0, ::), the address of the default route's interface")
	fs.Int32Var(&f.bindPort, "apiserver-bind-port", d.BindPort, "port of the API server (localAPIEndpoint.bindPort)")
	fs.StringSliceVar(&f.extraSANs, "apiserver-cert-extra-sans", nil, "extra SANs (IPs or DNS names) for the API server serving certificate (apiServer.certSANs)")
	fs.StringVar(&f.controlPlaneEndpoint, "control-plane-endpoint", "", "stable IP or DNS name, with optional port, of the control plane (controlPlaneEndpoint)")
	fs.StringVar(&f.serviceCIDR, "service-cidr", d.ServiceSubnet, "service IP range (networking.serviceSubnet); its first IP is a SAN of the API server certificate")
	fs.StringVar(&f.dnsDomain, "service-dns-domain", d.DNSDomain, "cluster DNS domain (networking.dnsDomain)")
	fs.StringVar(&f.nodeName, "node-name", "", "node name (nodeRegistration.name), used as given; default: the host name, lower-cased")
	fs.StringVar(&f.encryptionAlgorithm, "encryption-algorithm", d.EncryptionAlgorithm, "key algorithm: "+strings.Join(config.EncryptionAlgorithms, ", ")+" (encryptionAlgorithm)")
	fs.DurationVar(&f.certValidity, "certificate-validity", d.CertificateValidity, "validity of leaf certificates (certificateValidityPeriod)")
	fs.DurationVar(&f.caValidity, "ca-certificate-validity", d.CACertificateValidity, "validity of CA certificates (caCertificateValidityPeriod)")
}

// load builds the cluster settings, prints the config file's warnings to
// warn, fills machine-dependent defaults and validates the result.
func (f *clusterFlags) load(cmd *cobra.Command, warn io.Writer) (*config.Cluster, error) {
	c, err := f.fileAndFlags(cmd, warn)
	if err != nil {
		return nil, err
	}
	if c.NodeName == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("find the node name: %w; pass --node-name", err)
		}
		c.NodeName = strings.ToLower(strings.TrimSpace(h))
	} else if cmd.Flags().Changed("node-name") && c.NodeName != strings.ToLower(c.NodeName) {
		// kubeadm init uses --node-name as given (cmd/kubeadm/app/cmd/init.go,
		// "override node name from the command line option"), after checking
		// it lower-cased; only nodeRegistration.name and the host name are
		// lower-cased. certctl makes the same certificates, and says why the
		// kubelet may not be able to use them.
		fmt.Fprintf(warn, "[warning] --node-name %q is used as given, as kubeadm does, while the kubelet registers the node as %q: pass --node-name %s unless the node was made with this name\n",
			c.NodeName, strings.ToLower(c.NodeName), strings.ToLower(c.NodeName))
	}
	// kubeadm treats an unspecified address as an empty one
	// (SetAPIEndpointDynamicDefaults, ChooseAPIServerBindAddress).
	if family, detect := c.AdvertiseAddressToDetect(); detect {
		resolve := f.resolveAddress
		if resolve == nil {
			resolve = utilnet.ResolveBindAddress
		}
		ip, err := resolve(family)
		if err != nil {
			return nil, fmt.Errorf("find the advertise address (localAPIEndpoint.advertiseAddress %q): %w; pass --apiserver-advertise-address", c.AdvertiseAddress, err)
		}
		c.AdvertiseAddress = ip.String()
	}
	if err := c.Validate(); err != nil {
		if f.configFile != "" {
			return nil, fmt.Errorf("%w (config file %s and flags)", err, f.configFile)
		}
		return nil, err
	}
	return &c, nil
}

// fileAndFlags layers the settings as kubeadm does: defaults, then the
// --config file (its warnings printed to warn), then the flags given on the
// command line. A command that registered only some of the flags (see
// addSubsetTo) gets only those applied. Values are normalized as kubeadm
// does (config.Cluster.Normalize); nothing is detected, and only what every
// kubeadm command refuses is checked here: a relative --cert-dir.
func (f *clusterFlags) fileAndFlags(cmd *cobra.Command, warn io.Writer) (config.Cluster, error) {
	c := config.Default()
	if f.configFile != "" {
		file, err := config.LoadFile(f.configFile, c)
		if err != nil {
			return c, err
		}
		for _, w := range file.Warnings {
			fmt.Fprintf(warn, "[warning] %s: %s\n", f.configFile, w)
		}
		c = file.Cluster
	}
	changed := cmd.Flags().Changed
	set := func(flag string, apply func()) {
		if changed(flag) {
			apply()
		}
	}
	set("cert-dir", func() { c.CertificatesDir = f.certDir })
	set("apiserver-advertise-address", func() { c.AdvertiseAddress = f.advertiseAddress })
	set("apiserver-bind-port", func() { c.BindPort = f.bindPort })
	set("apiserver-cert-extra-sans", func() { c.APIServerCertSANs = f.extraSANs })
	set("control-plane-endpoint", func() { c.ControlPlaneEndpoint = f.controlPlaneEndpoint })
	set("service-cidr", func() { c.ServiceSubnet = f.serviceCIDR })
	set("service-dns-domain", func() { c.DNSDomain = f.dnsDomain })
	set("node-name", func() { c.NodeName = f.nodeName })
	set("encryption-algorithm", func() { c.EncryptionAlgorithm = f.encryptionAlgorithm })
	set("certificate-validity", func() { c.CertificateValidity = f.certValidity })
	set("ca-certificate-validity", func() { c.CACertificateValidity = f.caValidity })
	// kubeadm refuses a relative --cert-dir in init phase, certs renew and
	// certs check-expiration alike ("certificatesDir: path is not absolute").
	if changed("cert-dir") && f.certDir != "" && !filepath.IsAbs(f.certDir) {
		abs, err := filepath.Abs(f.certDir)
		if err != nil {
			abs = config.DefaultCertificatesDir
		}
		return c, fmt.Errorf("invalid --cert-dir %q: path is not absolute: use an absolute path such as %s", f.certDir, abs)
	}
	c.Normalize()
	return c, nil
}
