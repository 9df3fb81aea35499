package cmd

import (
	"context"
	"io"
	"net"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/certctl/certctl/internal/kubeclient"
	"github.com/certctl/certctl/phases/config"
)

// clusterFlags are the kubeadm-compatible flags that decide certificates.
// Precedence, as in kubeadm: defaults, then --config, then flags given.
type clusterFlags struct {
	configFile string
	config.Flags

	// Without --config the settings come from the node (config.Resolver).
	// kubeconfigDir, when the command has --kubeconfig-dir, points at its
	// value: where admin.conf is looked for (default /etc/kubernetes).
	kubeconfigDir *string
	// kubeconfig and context, for a command with --kubeconfig and
	// --context (readWith), point at their values: the ConfigMap is read
	// with them (config.Resolver.Kubeconfig).
	kubeconfig, context *string
	// connect and resolveAddress: see config.Resolver; nil in certctl.
	connect        func(kubeconfigDir string) (config.ConfigMapGetter, string, error)
	resolveAddress func(family net.IP) (net.IP, error)
	// noConfigMap: see config.Resolver.NoConfigMap ("--node-only").
	noConfigMap string
	// source is where the last load took the settings from; quiet keeps it
	// to itself (renew --quiet, for cron, which mails any output).
	source config.Source
	quiet  bool
	// makesNoCA: see config.Resolver.MakesNoCA.
	makesNoCA bool
	// certificateKey is the certificate key of the --config file of the
	// last load (config.Resolver.CertificateKey).
	certificateKey string
	// discoveryKubeconfig is the JoinConfiguration's discovery kubeconfig
	// of the last load (config.Resolver.DiscoveryKubeconfig).
	discoveryKubeconfig string
}

func (f *clusterFlags) addTo(fs *pflag.FlagSet) {
	d := config.Default()
	fs.StringVar(&f.configFile, "config", "", "kubeadm configuration file (kubeadm.k8s.io/v1beta4 InitConfiguration, or JoinConfiguration for a joining control-plane node, and ClusterConfiguration; v1beta3 is read as kubeadm v1.36 read it)")
	fs.StringVar(&f.CertDir, "cert-dir", d.CertificatesDir, "folder of the certificates (certificatesDir)")
	fs.StringVar(&f.AdvertiseAddress, "apiserver-advertise-address", "", "IP address the API server advertises (localAPIEndpoint.advertiseAddress); when empty or unspecified (0.0.0.0, ::), the address of the default route's interface")
	fs.Int32Var(&f.BindPort, "apiserver-bind-port", d.BindPort, "port of the API server (localAPIEndpoint.bindPort)")
	fs.StringSliceVar(&f.ExtraSANs, "apiserver-cert-extra-sans", nil, "extra SANs (IPs or DNS names) for the API server serving certificate (apiServer.certSANs)")
	fs.StringVar(&f.ControlPlaneEndpoint, "control-plane-endpoint", "", "stable IP or DNS name, with optional port, of the control plane (controlPlaneEndpoint)")
	fs.StringVar(&f.ServiceCIDR, "service-cidr", d.ServiceSubnet, "service IP range (networking.serviceSubnet); its first IP is a SAN of the API server certificate")
	fs.StringVar(&f.DNSDomain, "service-dns-domain", d.DNSDomain, "cluster DNS domain (networking.dnsDomain)")
	fs.StringVar(&f.NodeName, "node-name", "", "node name (nodeRegistration.name), used as given; default: the host name, lower-cased")
	fs.StringVar(&f.EncryptionAlgorithm, "encryption-algorithm", d.EncryptionAlgorithm, "key algorithm: "+strings.Join(config.EncryptionAlgorithms, ", ")+" (encryptionAlgorithm)")
	fs.DurationVar(&f.CertValidity, "certificate-validity", d.CertificateValidity, "validity of leaf certificates (certificateValidityPeriod)")
	fs.DurationVar(&f.CAValidity, "ca-certificate-validity", d.CACertificateValidity, "validity of CA certificates (caCertificateValidityPeriod)")
}

// addKubeconfigDirTo registers --kubeconfig-dir into dir, which is also
// where the settings' resolver looks for admin.conf.
func (f *clusterFlags) addKubeconfigDirTo(fs *pflag.FlagSet, dir *string, help string) {
	fs.StringVar(dir, "kubeconfig-dir", config.DefaultKubeconfigDir, help)
	f.kubeconfigDir = dir
}

// readWith makes the kubeadm-config read take the command's --kubeconfig
// and --context, as its other requests do.
func (f *clusterFlags) readWith(kubeconfig, context *string) {
	f.kubeconfig, f.context = kubeconfig, context
}

// openConfigMaps makes a client of kube-system's ConfigMaps from a
// kubeconfig file, in its context ctx ("": its current-context).
func openConfigMaps(path, ctx string) (config.ConfigMapGetter, error) {
	return kubeclient.ConfigMaps(kubeclient.Options{File: path, Context: ctx, UserAgent: userAgent(), Now: time.Now}, config.ConfigMapNamespace)
}

// load builds and validates the node's settings (config.Resolver.Load).
func (f *clusterFlags) load(cmd *cobra.Command, warn io.Writer) (*config.Cluster, error) {
	// A bad value is refused before the ConfigMap read, which can wait.
	if err := f.Check(cmd.Flags().Changed); err != nil {
		return nil, err
	}
	return resolve(f, cmd, warn, (*config.Resolver).Load)
}

// fileAndFlags layers the settings without detecting or validating
// anything (config.Resolver.Layered).
func (f *clusterFlags) fileAndFlags(cmd *cobra.Command, warn io.Writer) (config.Cluster, error) {
	return resolve(f, cmd, warn, (*config.Resolver).Layered)
}

// loadForRenewal reads the settings renewal uses (config.Resolver.ForRenewal).
func (f *clusterFlags) loadForRenewal(cmd *cobra.Command, warn io.Writer) (*config.Cluster, error) {
	if err := f.CheckForRenewal(cmd.Flags().Changed); err != nil {
		return nil, err // as load: before the ConfigMap read
	}
	return resolve(f, cmd, warn, (*config.Resolver).ForRenewal)
}

// resolve reads the settings for these flags, as given to cmd, the way
// read does, and keeps where they came from in f.source.
func resolve[T any](f *clusterFlags, cmd *cobra.Command, warn io.Writer, read func(*config.Resolver, context.Context) (T, error)) (T, error) {
	changed := cmd.Flags().Changed
	kcDir := config.DefaultKubeconfigDir
	if f.kubeconfigDir != nil {
		kcDir = *f.kubeconfigDir
	}
	r := &config.Resolver{
		File: f.configFile, CertDir: f.CertDir, CertDirSet: changed("cert-dir"), NodeNameSet: changed("node-name"),
		KubeconfigDir: kcDir, Connect: f.connect, NoConfigMap: f.noConfigMap, Open: openConfigMaps, ResolveAddress: f.resolveAddress, Warn: warn, Quiet: f.quiet, MakesNoCA: f.makesNoCA,
		Override: func(c *config.Cluster) { f.Override(c, changed) },
	}
	if f.kubeconfig != nil {
		r.Kubeconfig, r.Context = *f.kubeconfig, *f.context
	}
	defer func() {
		f.source, f.certificateKey, f.discoveryKubeconfig = r.Source, r.CertificateKey, r.DiscoveryKubeconfig
	}()
	return read(r, cmd.Context())
}

// rerun are the settings flags given to cmd, as a printed command repeats
// them (phases.Env.Rerun): --config, the folders and every flag of addTo.
func (f *clusterFlags) rerun(cmd *cobra.Command) string {
	all := pflag.NewFlagSet("cluster", pflag.ContinueOnError)
	(&clusterFlags{}).addTo(all)
	names := []string{"kubeconfig-dir"}
	all.VisitAll(func(fl *pflag.Flag) { names = append(names, fl.Name) })
	return rerunFlags(cmd, names...)
}

// addSubsetTo registers only the named flags of clusterFlags, with their
// usual help and defaults: renewal and expiry checks read SANs and
// endpoints from the certificates, so the flags that set them would do
// nothing there.
func (f *clusterFlags) addSubsetTo(fs *pflag.FlagSet, names ...string) {
	all := pflag.NewFlagSet("cluster", pflag.ContinueOnError)
	f.addTo(all)
	for _, n := range names {
		fs.AddFlag(all.Lookup(n))
	}
}
