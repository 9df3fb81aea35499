package config

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	utilnet "k8s.io/apimachinery/pkg/util/net"
	netutils "k8s.io/utils/net"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// Source is where a command took the node's settings from.
type Source int

const (
	SourceFile         Source = iota + 1 // --config
	SourceConfigMap                      // the kubeadm-config ConfigMap
	SourceCertificates                   // the certificates on disk
	SourceHost                           // defaults, host name, default route
)

// Configured reports whether the settings came from a kubeadm
// configuration (a file or the cluster's ConfigMap): only then do they say
// what the certificates should be (SANs, algorithm) rather than what they are.
func (s Source) Configured() bool { return s == SourceFile || s == SourceConfigMap }

// ClusterTimeout bounds the read of the kubeadm-config ConfigMap, so that
// an API server that is down or unreachable (a node being repaired, the
// cron run that must renew its expired certificates) costs seconds.
const ClusterTimeout = 5 * time.Second

// Resolver finds a node's settings as kubeadm does: defaults, then the
// configuration file (or, without one, what the node says: see fromNode),
// then the flags given on the command line.
type Resolver struct {
	File string // --config; "" for none
	// CertDir is --cert-dir when CertDirSet (it was given); it must be absolute.
	CertDir    string
	CertDirSet bool
	// NodeNameSet says --node-name was given: it is used as given.
	NodeNameSet bool
	// KubeconfigDir is where admin.conf is looked for (default
	// DefaultKubeconfigDir).
	KubeconfigDir string
	// Override applies the flags given on the command line; nil for none.
	Override func(*Cluster)
	// Connect returns a client of the cluster's kube-system ConfigMaps and
	// the file it used; nil: Open with KUBECONFIG-DIR/admin.conf, then
	// super-admin.conf, as kubeadm does.
	Connect func(kubeconfigDir string) (ConfigMapGetter, string, error)
	// NoConfigMap, when set, says why the kubeadm-config ConfigMap is not
	// read (such as "--node-only": a command told to leave the API server
	// alone, which may be down or hang): without File the settings come
	// from the certificates, as when the API server does not answer, at
	// once rather than after up to ClusterTimeout.
	NoConfigMap string
	// Open makes a client of the cluster's kube-system ConfigMaps from a
	// kubeconfig file, in its context ctx ("": its current-context); its
	// error names the file.
	Open func(kubeconfig, ctx string) (ConfigMapGetter, error)
	// Kubeconfig and Context are the command's --kubeconfig and --context
	// ("": not given), for the read without Connect: the ConfigMap is read
	// with Kubeconfig when given, else with KUBECONFIG-DIR's admin.conf or
	// super-admin.conf, and in the context Context names, as kubectl's
	// --context picks among the contexts of the kubeconfig loaded. So the
	// command's every request goes to the one cluster the user named;
	// admin.conf's current-context read the ConfigMap of another.
	Kubeconfig, Context string
	// ResolveAddress picks the advertise address when it is empty or
	// unspecified, preferring the family of its argument (nil: IPv4); nil
	// means utilnet.ResolveBindAddress, the default route's interface.
	ResolveAddress func(family net.IP) (net.IP, error)
	// LoopbackAddress picks the global address of the lo interface that
	// replaces a loopback advertise address given in the file or a flag
	// (loopbackToGlobal); nil means utilnet.ChooseBindAddressForInterface
	// of utilnet.LoopbackInterfaceName, as kubeadm does.
	LoopbackAddress func() (net.IP, error)
	// Warn gets the configuration's warnings and, unless Quiet, a line
	// saying where the settings came from.
	Warn  io.Writer
	Quiet bool
	// MakesNoCA says the command makes no CA (init-phase kubeconfig, or
	// --use-csr): Load leaves out the warnings about a CA made with these
	// settings (CAValidityWarnings), which would warn of a CA not made.
	MakesNoCA bool

	// Source is where the last load took the settings from.
	Source Source
	// CertificateKey is the certificate key of the configuration file of
	// the last load (File.CertificateKey); "" without one.
	CertificateKey string
	// DiscoveryKubeconfig is the discovery kubeconfig of the configuration
	// file of the last load (File.DiscoveryKubeconfig); "" without one.
	DiscoveryKubeconfig string
	// derived are the validities FromCertificates read from the node's
	// certificates in the last load: the node's own, not a choice to
	// warn about (ValidityWarnings) unless a flag changed them.
	derived [2]time.Duration
	// addressGiven says that the advertise address of the last load was
	// given (the file or a flag), not read from the node's certificates.
	addressGiven bool
}

// Load builds the cluster settings, prints the config file's warnings,
// fills machine-dependent defaults and validates the result.
func (r *Resolver) Load(ctx context.Context) (*Cluster, error) {
	c, err := r.Layered(ctx)
	if err != nil {
		return nil, err
	}
	if c.NodeName == "" {
		h, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("find the node name: %w; pass --node-name", err)
		}
		c.NodeName = strings.ToLower(strings.TrimSpace(h))
	} else if r.NodeNameSet && c.NodeName != strings.ToLower(c.NodeName) {
		// kubeadm init uses --node-name as given (cmd/kubeadm/app/cmd/init.go,
		// "override node name from the command line option"), after checking
		// it lower-cased; only nodeRegistration.name and the host name are
		// lower-cased. certctl makes the same certificates, and says why the
		// kubelet may not be able to use them.
		fmt.Fprintf(r.Warn, "[warning] --node-name %q is used as given, as kubeadm does, while the kubelet registers the node as %q: pass --node-name %s unless the node was made with this name\n",
			c.NodeName, strings.ToLower(c.NodeName), strings.ToLower(c.NodeName))
	}
	// kubeadm treats an unspecified address as an empty one
	// (SetAPIEndpointDynamicDefaults, ChooseAPIServerBindAddress).
	if family, detect := c.AdvertiseAddressToDetect(); detect {
		resolve := r.ResolveAddress
		if resolve == nil {
			resolve = utilnet.ResolveBindAddress
		}
		ip, err := resolve(family)
		if err != nil {
			return nil, fmt.Errorf("find the advertise address (localAPIEndpoint.advertiseAddress %q): %w; pass --apiserver-advertise-address", c.AdvertiseAddress, err)
		}
		c.AdvertiseAddress = ip.String()
	}
	r.loopbackToGlobal(&c)
	if err := c.Validate(); err != nil {
		if r.File != "" {
			return nil, fmt.Errorf("%w (config file %s and flags)", err, r.File)
		}
		return nil, err
	}
	r.warnValidity(&c)
	return &c, nil
}

// warnValidity prints c's ValidityWarnings (without CAValidityWarnings
// when MakesNoCA), unless its validities are those the last load derived
// from the node's certificates: the node's own, no choice.
func (r *Resolver) warnValidity(c *Cluster) {
	if r.derived == [2]time.Duration{c.CertificateValidity, c.CACertificateValidity} {
		return
	}
	ws := c.ValidityWarnings()
	if r.MakesNoCA {
		ws = c.kubeadmValidityWarnings()
	}
	for _, w := range ws {
		fmt.Fprintf(r.Warn, "[warning] %s\n", w)
	}
}

// ForRenewal is Load for renewal, which takes names and SANs from the
// certificates on disk: the same precedence (defaults, --config, flags)
// for the settings it uses, without Load's detection and validation of the
// node's name and address. Renewal does not use them, and detecting them
// fails on a node without a default route or whose host name is not a DNS
// name, which would stop a cron renewal for nothing.
func (r *Resolver) ForRenewal(ctx context.Context) (*Cluster, error) {
	c, err := r.Layered(ctx)
	if err != nil {
		return nil, err
	}
	if err := c.checkForRenewal(); err != nil {
		if r.File != "" && c.CertificateValidity <= 0 {
			err = fmt.Errorf("%w (config file %s and flags)", err, r.File)
		}
		return nil, err
	}
	r.warnValidity(&c)
	// An unspecified address (0.0.0.0, ::) is an empty one to kubeadm: the
	// node's, which Layered reads from its certificates for an empty one.
	// Left as it is, renew --update-sans asked for the SAN "::" or
	// "0.0.0.0" in place of the node's address.
	if family, detect := c.AdvertiseAddressToDetect(); detect && family != nil {
		c.AdvertiseAddress = ""
		NodeFromCertificatesIn(&c, c.CertificatesDir)
		r.addressGiven = false // the certificates'
	}
	r.loopbackToGlobal(&c)
	// The node's name is part of --use-api's CSR names (apirenew.CSRName),
	// which a later run must find again: without --node-name or --config it
	// stays "node", as it always was.
	if c.NodeName == "" {
		c.NodeName = "node"
	}
	return &c, nil
}

// checkForRenewal refuses the settings renewal cannot use: an unknown
// algorithm, a validity that is not positive or under the issuance
// policy's minimum, as init-phase refuses them (Validate).
func (c *Cluster) checkForRenewal() error {
	if _, err := pki.ParseKeyAlgorithm(c.EncryptionAlgorithm); err != nil {
		return fmt.Errorf("unknown encryptionAlgorithm (--encryption-algorithm) %q: use one of %s", c.EncryptionAlgorithm, strings.Join(EncryptionAlgorithms, ", "))
	}
	if c.CertificateValidity <= 0 {
		return fmt.Errorf("invalid certificateValidityPeriod (--certificate-validity) %v: must be positive: use a duration in hours such as %s", c.CertificateValidity, hours(DefaultCertificateValidity))
	}
	return policy.Validity("certificateValidityPeriod (--certificate-validity)", c.CertificateValidity)
}

// loopbackToGlobal replaces a loopback advertise address given in the
// file or a flag as kubeadm's SetAPIEndpointDynamicDefaults does: by the
// global address of the lo interface, IPv4 first, which set-ups such as
// RFC 5549's (BGP over link-local addresses) give the node. Where lo has
// none kubeadm fails; certctl keeps the loopback address, for a node whose
// API server is reachable there only (certctl's test clusters). An address
// read from the node's certificates is the node's: it is kept.
func (r *Resolver) loopbackToGlobal(c *Cluster) {
	ip := netutils.ParseIPSloppy(c.AdvertiseAddress)
	if !r.addressGiven || ip == nil || !ip.IsLoopback() {
		return
	}
	lookup := r.LoopbackAddress
	if lookup == nil {
		lookup = func() (net.IP, error) { return utilnet.ChooseBindAddressForInterface(utilnet.LoopbackInterfaceName) }
	}
	global, err := lookup()
	if err != nil || global == nil {
		return
	}
	if !r.Quiet {
		fmt.Fprintf(r.Warn, "[config] advertise address %s is a loopback address: using %s, the global address of the %s interface, as kubeadm does\n", c.AdvertiseAddress, global, utilnet.LoopbackInterfaceName)
	}
	c.AdvertiseAddress = canonicalIP(global.String())
}

// CheckCertDirFlag refuses a relative --cert-dir, as kubeadm does in init
// phase, certs renew and certs check-expiration alike ("certificatesDir:
// path is not absolute"): every command that takes --cert-dir calls it.
func CheckCertDirFlag(dir string) error {
	if dir == "" || filepath.IsAbs(dir) {
		return nil
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = DefaultCertificatesDir
	}
	return fmt.Errorf("invalid --cert-dir %q: path is not absolute: use an absolute path such as %s", dir, abs)
}

// Layered layers the settings as kubeadm does: defaults, then the
// configuration file (its warnings printed to Warn), then Override.
// Values are normalized as kubeadm does (Cluster.Normalize); nothing is
// detected, and only what every kubeadm command refuses is checked here: a
// relative --cert-dir.
func (r *Resolver) Layered(ctx context.Context) (Cluster, error) {
	c := Default()
	if r.CertDirSet {
		if err := CheckCertDirFlag(r.CertDir); err != nil {
			return c, err
		}
	}
	var said string
	if r.File != "" {
		file, err := LoadFile(r.File, c)
		if err != nil {
			return c, err
		}
		for _, w := range file.Warnings {
			fmt.Fprintf(r.Warn, "[warning] %s: %s\n", r.File, w)
		}
		c, r.Source, said = file.Cluster, SourceFile, "the configuration file "+r.File
		r.CertificateKey, r.DiscoveryKubeconfig = file.CertificateKey, file.DiscoveryKubeconfig
	} else {
		var err error
		if c, said, err = r.fromNode(ctx, c); err != nil {
			return c, err
		}
	}
	r.derived = [2]time.Duration{}
	if r.Source == SourceCertificates {
		r.derived = [2]time.Duration{c.CertificateValidity, c.CACertificateValidity}
	}
	fromNode := c.AdvertiseAddress // with SourceCertificates, the certificates'
	if r.Override != nil {
		r.Override(&c)
	}
	r.addressGiven = c.AdvertiseAddress != "" && (r.Source != SourceCertificates || c.AdvertiseAddress != fromNode)
	// A kubeadm configuration rarely names the node (the ConfigMap never
	// does): the node's certificates do, before the host name would.
	if r.Source.Configured() {
		NodeFromCertificatesIn(&c, c.CertificatesDir)
	}
	c.Normalize()
	if !r.Quiet {
		fmt.Fprintf(r.Warn, "[config] using %s\n", said)
	}
	return c, nil
}

// flagError is an error of Connect that is the command line's mistake (a
// --context the kubeconfig lacks: internal/kubeclient), not a cluster out
// of reach: the settings are then not looked for further.
type flagError interface{ FlagError() bool }

// fromNode finds the settings of a node without --config, as kubeadm's
// commands on an existing node do: the ClusterConfiguration of the
// kube-system/kubeadm-config ConfigMap, read with the command's
// --kubeconfig or else KUBECONFIG-DIR/admin.conf (then super-admin.conf),
// in the context of --context, when the API server answers within
// ClusterTimeout; otherwise what the certificates in the certificate
// folder say (FromCertificates); otherwise, for a node that has none yet,
// base (kubeadm's defaults: the host name and the default route's address
// are detected later). It returns what to say about it. A --context the
// kubeconfig lacks is an error: a typo, not a cluster out of reach.
func (r *Resolver) fromNode(ctx context.Context, base Cluster) (Cluster, string, error) {
	certDir := base.CertificatesDir
	if r.CertDirSet {
		certDir = r.CertDir
	}
	kcDir := cmp.Or(r.KubeconfigDir, DefaultKubeconfigDir)
	var (
		cms                 ConfigMapGetter
		through, passedOver string
		err                 error
	)
	if r.NoConfigMap != "" {
		err = errors.New(r.NoConfigMap)
	} else {
		cms, through, passedOver, err = r.connect(kcDir)
	}
	var fe flagError
	if errors.As(err, &fe) && fe.FlagError() {
		return base, "", err
	}
	if err != nil && through != "" && unreadable(through) {
		// client-go's error does not wrap the cause: say what to do.
		err = fmt.Errorf("%w: run certctl as root to read it, or pass --config", err)
	}
	if passedOver != "" {
		through += " (" + passedOver + ")"
	}
	if r.Connect == nil && r.Context != "" && through != "" {
		through += " (context " + r.Context + ")" // as kubeclient's Source says it
	}
	if err == nil {
		if ctx == nil { // a command run without ExecuteContext, as in tests
			ctx = context.Background()
		}
		ctx, cancel := context.WithTimeout(ctx, ClusterTimeout)
		defer cancel()
		var file *File
		if file, err = FromConfigMap(ctx, cms, base); err == nil {
			for _, w := range file.Warnings {
				fmt.Fprintf(r.Warn, "[warning] ConfigMap %s/%s: %s\n", ConfigMapNamespace, ConfigMapName, w)
			}
			r.Source = SourceConfigMap
			// The ConfigMap holds no node: its API endpoint is the node's,
			// as kubeadm reads it from the kube-apiserver's annotation; the
			// address comes from the certificates (Layered), the port from
			// controller-manager.conf.
			file.Cluster.bindPortFrom(kcDir)
			return file.Cluster, fmt.Sprintf("the ClusterConfiguration of ConfigMap %s/%s (read with %s)", ConfigMapNamespace, ConfigMapName, through), nil
		}
	}
	if passedOver != "" {
		err = fmt.Errorf("%s; %w", passedOver, err)
	}
	why := fmt.Sprintf("ConfigMap %s/%s not read: %v", ConfigMapNamespace, ConfigMapName, err)
	if c, ok := FromCertificates(certDir, kcDir, base); ok {
		r.Source = SourceCertificates
		return c, fmt.Sprintf("the settings derived from the certificates in %s (%s)", certDir, why), nil
	}
	r.Source = SourceHost
	advice := "; pass --config for other settings"
	if strings.Contains(why, "pass --config") { // said already, by the reason the ConfigMap was not read
		advice = ""
	}
	return base, fmt.Sprintf("kubeadm's defaults with this host's name and address: %s has no apiserver or etcd certificate and %s%s", certDir, why, advice), nil
}

// unreadable reports whether the user may not read the file at path.
func unreadable(path string) bool {
	f, err := os.Open(path)
	if err == nil {
		f.Close()
	}
	return errors.Is(err, fs.ErrPermission)
}

// connect returns the kube-system ConfigMaps of the cluster, through
// --kubeconfig or else the node's admin.conf or super-admin.conf, and
// which file it used. A file that is there but not a regular one (through
// a symbolic link, the file it points to), such as a FIFO, is passed over
// as a missing one is, rather than opened, which could block: passedOver
// says so, naming it.
func (r *Resolver) connect(kubeconfigDir string) (cms ConfigMapGetter, through, passedOver string, err error) {
	if r.Connect != nil {
		cms, through, err = r.Connect(kubeconfigDir)
		return cms, through, "", err
	}
	if r.Kubeconfig != "" {
		cms, err := r.Open(r.Kubeconfig, r.Context)
		return cms, r.Kubeconfig, "", err
	}
	var skipped []string
	for _, name := range []string{pki.AdminKubeconfig, pki.SuperAdminKubeconfig} {
		path := filepath.Join(kubeconfigDir, name)
		fi, err := os.Stat(path)
		if err != nil {
			continue
		}
		if !fi.Mode().IsRegular() {
			skipped = append(skipped, fmt.Sprintf("%s is not a regular file but a %s: replace it with the node's kubeconfig file", path, pki.FileKind(fi.Mode())))
			continue
		}
		cms, err := r.Open(path, r.Context)
		return cms, path, strings.Join(skipped, "; "), err
	}
	if len(skipped) > 0 {
		return nil, "", "", errors.New(strings.Join(skipped, "; "))
	}
	return nil, "", "", fmt.Errorf("no %s or %s in %s", pki.AdminKubeconfig, pki.SuperAdminKubeconfig, kubeconfigDir)
}
