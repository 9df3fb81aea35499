package cmd

import (
	"context"
	"errors"
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

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
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

	// Without --config the settings come from the node (see fromNode).
	// kubeconfigDir, when the command has --kubeconfig-dir, points at its
	// value: where admin.conf is looked for (default /etc/kubernetes).
	kubeconfigDir *string
	// connect returns a client of the cluster's API server, the ConfigMaps
	// of kube-system; nil: kubeclient.New with KUBECONFIG-DIR/admin.conf,
	// then super-admin.conf, as kubeadm does.
	connect func(kubeconfigDir string) (config.ConfigMapGetter, string, error)
	// source is where the last load took the settings from; quiet keeps it
	// to itself (renew --quiet, for cron, which mails any output).
	source settingsSource
	quiet  bool
}

// settingsSource is where a command took the node's settings from.
type settingsSource int

const (
	sourceFile         settingsSource = iota + 1 // --config
	sourceConfigMap                              // the kubeadm-config ConfigMap
	sourceCertificates                           // the certificates on disk
	sourceHost                                   // defaults, host name, default route
)

// configured reports whether the settings came from a kubeadm
// configuration (a file or the cluster's ConfigMap): only then do they say
// what the certificates should be (SANs, algorithm) rather than what they are.
func (f *clusterFlags) configured() bool {
	return f.source == sourceFile || f.source == sourceConfigMap
}

// clusterTimeout bounds the read of the kubeadm-config ConfigMap, so that
// an API server that is down or unreachable (a node being repaired, the
// cron run that must renew its expired certificates) costs seconds.
const clusterTimeout = 5 * time.Second

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
	changed := cmd.Flags().Changed
	// kubeadm refuses a relative --cert-dir in init phase, certs renew and
	// certs check-expiration alike ("certificatesDir: path is not absolute").
	if changed("cert-dir") && f.certDir != "" && !filepath.IsAbs(f.certDir) {
		abs, err := filepath.Abs(f.certDir)
		if err != nil {
			abs = config.DefaultCertificatesDir
		}
		return c, fmt.Errorf("invalid --cert-dir %q: path is not absolute: use an absolute path such as %s", f.certDir, abs)
	}
	var said string
	if f.configFile != "" {
		file, err := config.LoadFile(f.configFile, c)
		if err != nil {
			return c, err
		}
		for _, w := range file.Warnings {
			fmt.Fprintf(warn, "[warning] %s: %s\n", f.configFile, w)
		}
		c, f.source, said = file.Cluster, sourceFile, "the configuration file "+f.configFile
	} else {
		c, said = f.fromNode(cmd, c, warn)
	}
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
	set("certificate-validity", func() { c.CertificateValidity, c.KeepValidity = f.certValidity, false })
	set("ca-certificate-validity", func() { c.CACertificateValidity = f.caValidity })
	// A kubeadm configuration rarely names the node (the ConfigMap never
	// does): the node's certificates do, before the host name would.
	if f.source == sourceFile || f.source == sourceConfigMap {
		config.NodeFromCertificatesIn(&c, c.CertificatesDir)
	}
	c.Normalize()
	if !f.quiet {
		fmt.Fprintf(warn, "[config] using %s\n", said)
	}
	return c, nil
}

// fromNode finds the settings of a node without --config, as kubeadm's
// commands on an existing node do: the ClusterConfiguration of the
// kube-system/kubeadm-config ConfigMap, read with KUBECONFIG-DIR/admin.conf
// (then super-admin.conf) when the API server answers within
// clusterTimeout; otherwise what the certificates in the certificate
// folder say (config.FromCertificates); otherwise, for a node that has
// none yet, base (kubeadm's defaults: the host name and the default
// route's address are detected later). It returns what to say about it.
func (f *clusterFlags) fromNode(cmd *cobra.Command, base config.Cluster, warn io.Writer) (config.Cluster, string) {
	certDir := base.CertificatesDir
	if cmd.Flags().Changed("cert-dir") {
		certDir = f.certDir
	}
	kcDir := config.DefaultKubeconfigDir
	if f.kubeconfigDir != nil {
		kcDir = *f.kubeconfigDir
	}
	why := ""
	cms, through, err := f.connectTo(kcDir)
	if err == nil {
		parent := cmd.Context()
		if parent == nil { // a command run without ExecuteContext, as in tests
			parent = context.Background()
		}
		ctx, cancel := context.WithTimeout(parent, clusterTimeout)
		defer cancel()
		var file *config.File
		if file, err = config.FromConfigMap(ctx, cms, base); err == nil {
			for _, w := range file.Warnings {
				fmt.Fprintf(warn, "[warning] ConfigMap %s/%s: %s\n", config.ConfigMapNamespace, config.ConfigMapName, w)
			}
			f.source = sourceConfigMap
			return file.Cluster, fmt.Sprintf("the ClusterConfiguration of ConfigMap %s/%s (read with %s)", config.ConfigMapNamespace, config.ConfigMapName, through)
		}
	}
	why = fmt.Sprintf("ConfigMap %s/%s not read: %v", config.ConfigMapNamespace, config.ConfigMapName, err)
	if c, ok := config.FromCertificates(certDir, kcDir, base); ok {
		f.source = sourceCertificates
		return c, fmt.Sprintf("the settings derived from the certificates in %s (%s)", certDir, why)
	}
	f.source = sourceHost
	return base, fmt.Sprintf("kubeadm's defaults with this host's name and address: %s has no apiserver or etcd certificate and %s; pass --config for other settings", certDir, why)
}

// connectTo returns the kube-system ConfigMaps of the cluster, through the
// node's admin.conf or super-admin.conf, and which file it used.
func (f *clusterFlags) connectTo(kubeconfigDir string) (config.ConfigMapGetter, string, error) {
	if f.connect != nil {
		return f.connect(kubeconfigDir)
	}
	for _, name := range []string{pki.AdminKubeconfig, pki.SuperAdminKubeconfig} {
		path := filepath.Join(kubeconfigDir, name)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		c, err := kubeclient.New(kubeclient.Options{Kubeconfig: path, UserAgent: userAgent(), Now: time.Now})
		if err != nil {
			// The cause alone, which names the file: kubeclient's hint
			// about --kubeconfig is for the commands that have it.
			if cause := errors.Unwrap(err); cause != nil {
				err = cause
			}
			return nil, "", err
		}
		return c.CoreV1().ConfigMaps(config.ConfigMapNamespace), path, nil
	}
	return nil, "", fmt.Errorf("no %s or %s in %s", pki.AdminKubeconfig, pki.SuperAdminKubeconfig, kubeconfigDir)
}
