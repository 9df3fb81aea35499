// Package config holds the few settings of a kubeadm cluster that decide its
// certificates, read from kubeadm's own configuration file (v1beta4 or
// v1beta3) or given as flags. Field names follow kubeadm's so that the same
// file given to kubeadm and to certctl gives the same certificates.
package config

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
	netutils "k8s.io/utils/net"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// Defaults, as kubeadm v1.37 sets them (cmd/kubeadm/app/apis/kubeadm/v1beta4/defaults.go).
const (
	DefaultCertificatesDir       = "/etc/kubernetes/pki"
	DefaultKubeconfigDir         = "/etc/kubernetes"
	DefaultClusterName           = "kubernetes"
	DefaultServiceSubnet         = "10.96.0.0/12"
	DefaultDNSDomain             = "cluster.local"
	DefaultBindPort              = 6443
	DefaultEncryptionAlgorithm   = "RSA-2048"
	DefaultCertificateValidity   = 365 * 24 * time.Hour
	DefaultCACertificateValidity = 10 * 365 * 24 * time.Hour
	// CertificateBackdate is subtracted from "now" for NotBefore so that
	// small clock differences between nodes do not make new certs invalid.
	CertificateBackdate = 5 * time.Minute
)

// EncryptionAlgorithms lists the key algorithms kubeadm v1.37 accepts, in the
// spelling of its encryptionAlgorithm field.
var EncryptionAlgorithms = []string{"RSA-2048", "RSA-3072", "RSA-4096", "ECDSA-P256", "ECDSA-P384"}

// Cluster is what certctl needs to know about a control-plane node.
type Cluster struct {
	CertificatesDir       string
	ClusterName           string
	ControlPlaneEndpoint  string // host or host:port, may be empty
	ServiceSubnet         string // one CIDR or a dual-stack pair "a,b"
	DNSDomain             string
	APIServerCertSANs     []string
	EtcdServerCertSANs    []string
	EtcdPeerCertSANs      []string
	EncryptionAlgorithm   string
	CertificateValidity   time.Duration
	CACertificateValidity time.Duration
	AdvertiseAddress      string
	BindPort              int32
	NodeName              string
	// ExternalEtcd is set when the cluster uses an external etcd
	// (etcd.external): kubeadm then makes no etcd certificates.
	ExternalEtcd bool
	// EtcdExternal is etcd.external: the endpoints and the client
	// certificate files kube-apiserver uses for the external etcd, which
	// check-expiration checks and renewal cannot renew (their CA is not
	// the cluster's), and `certctl certs upload` copies for joining nodes.
	EtcdExternal ExternalEtcd
	// Joining is set by a JoinConfiguration with controlPlane: the node
	// joins an existing cluster, whose CAs and service-account key pair it
	// must get (certctl certs download), never make.
	Joining bool
	// KeepValidity is set when the settings were derived from the
	// certificates on disk, which do not record certificateValidityPeriod:
	// renewal then gives each certificate its current validity period
	// (NotAfter − NotBefore − the 5-minute backdate) instead of
	// CertificateValidity.
	KeepValidity bool
	// SignerNames maps a certificate's name as `certctl renew` spells it
	// ("apiserver", "admin.conf") to the signer name its CSR asks for with
	// --use-api, instead of the default one (renewal.signerNames of a
	// CertctlConfiguration document, or --signer-name). Not kubeadm's.
	SignerNames map[string]string
}

// ExternalEtcd is kubeadm's etcd.external, as far as certificates go;
// HTTPEndpoints, v1beta4's own, is listed so that it does not warn.
type ExternalEtcd struct {
	Endpoints     []string `json:"endpoints,omitempty"`
	HTTPEndpoints []string `json:"httpEndpoints,omitempty" only:"v1beta4"`
	CAFile        string   `json:"caFile,omitempty"`
	CertFile      string   `json:"certFile,omitempty"`
	KeyFile       string   `json:"keyFile,omitempty"`
}

// Default returns kubeadm's defaults. AdvertiseAddress and NodeName stay
// empty: they depend on the machine and are filled by the caller.
func Default() Cluster {
	return Cluster{
		CertificatesDir:       DefaultCertificatesDir,
		ClusterName:           DefaultClusterName,
		ServiceSubnet:         DefaultServiceSubnet,
		DNSDomain:             DefaultDNSDomain,
		EncryptionAlgorithm:   DefaultEncryptionAlgorithm,
		CertificateValidity:   DefaultCertificateValidity,
		CACertificateValidity: DefaultCACertificateValidity,
		BindPort:              DefaultBindPort,
	}
}

// Validate checks every field as kubeadm v1.37 does and returns the first
// problem found, naming the setting (with its flag and config file
// spelling), the bad value and what to use. It expects the values after
// Normalize and after the detection of the node's name and address.
func (c *Cluster) Validate() error {
	_, vipErr := c.APIServerVirtualIP()
	var endpointErr error
	if c.ControlPlaneEndpoint != "" {
		_, _, endpointErr = SplitHostPort(c.ControlPlaneEndpoint)
	}
	// Every check, in this order: the first problem is returned.
	return cmp.Or(
		unless(c.CertificatesDir != "", "certificatesDir (--cert-dir) must not be empty: use an absolute path such as %s", DefaultCertificatesDir),
		invalid("certificatesDir (--cert-dir)", c.CertificatesDir, checkAbsolute(c.CertificatesDir)),
		unless(c.ClusterName != "", "clusterName must not be empty: leave it out to use %q", DefaultClusterName),
		invalid("localAPIEndpoint.advertiseAddress (--apiserver-advertise-address)", c.AdvertiseAddress, checkAdvertiseAddress(c.AdvertiseAddress, true)),
		unless(c.BindPort >= 1 && c.BindPort <= 65535, "invalid localAPIEndpoint.bindPort (--apiserver-bind-port) %d: must be 1-65535", c.BindPort),
		invalid("networking.serviceSubnet (--service-cidr)", c.ServiceSubnet, checkServiceSubnet(c.ServiceSubnet)),
		vipErr,
		invalid("networking.dnsDomain (--service-dns-domain)", c.DNSDomain, checkDNSDomain(c.DNSDomain)),
		invalid("controlPlaneEndpoint (--control-plane-endpoint)", c.ControlPlaneEndpoint, endpointErr),
		unless(c.NodeName != "", "nodeRegistration.name (--node-name) must not be empty: use the node's host name in lower case"),
		invalid("nodeRegistration.name (--node-name)", c.NodeName, checkNodeName(c.NodeName)),
		unless(slices.Contains(EncryptionAlgorithms, c.EncryptionAlgorithm), "unknown encryptionAlgorithm (--encryption-algorithm) %q: use one of %s", c.EncryptionAlgorithm, strings.Join(EncryptionAlgorithms, ", ")),
		unless(c.CertificateValidity > 0, "invalid certificateValidityPeriod (--certificate-validity) %v: must be positive: use a duration in hours such as %s", c.CertificateValidity, hours(DefaultCertificateValidity)),
		// The issuance policy's minimum, for init-phase and every renewal: a
		// certificate of 1ns would be written already expired (issue 13).
		policy.Validity(c.validityName(), c.CertificateValidity),
		unless(c.CACertificateValidity > 0, "invalid caCertificateValidityPeriod (--ca-certificate-validity) %v: must be positive: use a duration in hours such as %s", c.CACertificateValidity, hours(DefaultCACertificateValidity)),
		checkSANs("apiServer.certSANs (--apiserver-cert-extra-sans)", c.APIServerCertSANs),
		checkSANs("etcd.local.serverCertSANs", c.EtcdServerCertSANs),
		checkSANs("etcd.local.peerCertSANs", c.EtcdPeerCertSANs))
}

// validityName names CertificateValidity in a refusal: the setting, or
// with KeepValidity the period of apiserver.crt, which settings derived
// from the certificates take (FromCertificates) and the user never gave.
func (c *Cluster) validityName() string {
	if c.KeepValidity {
		return fmt.Sprintf("the validity period of apiserver.crt (the settings come from the certificates, and each keeps its own; choose one with --certificate-validity, kubeadm's default is %s)", strings.TrimSuffix(DefaultCertificateValidity.String(), "0m0s"))
	}
	return "certificateValidityPeriod (--certificate-validity)"
}

// unless is the error format and args say when ok is false, else nil.
func unless(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, args...)
}

// invalid names the field and its value in err, the problem a check
// found; nil when err is.
func invalid(field, value string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("invalid %s %q: %w", field, value, err)
}

// Normalize rewrites the settings as kubeadm's dynamic defaulting does
// before it validates and uses them: the advertise address and IP SANs in
// canonical form ("2001:db8:0:0::10" → "2001:db8::10", "::ffff:10.0.0.1"
// → "10.0.0.1") and apiServer.certSANs in lower case. kubeadm does not
// lower-case etcd's SANs, the control-plane endpoint (which it writes into
// the kubeconfig files as given) or --node-name; nodeRegistration.name of
// a config file is lower-cased when the file is read (LoadFile).
func (c *Cluster) Normalize() {
	c.AdvertiseAddress = canonicalIP(c.AdvertiseAddress)
	c.APIServerCertSANs = canonicalSANs(lowercaseSANs(c.APIServerCertSANs))
	c.EtcdServerCertSANs = canonicalSANs(c.EtcdServerCertSANs)
	c.EtcdPeerCertSANs = canonicalSANs(c.EtcdPeerCertSANs)
}

// AdvertiseAddressToDetect tells whether the advertise address is to be
// detected, as kubeadm detects it (ChooseAPIServerBindAddress): when it is
// empty or unspecified (0.0.0.0, ::). family is nil for an empty address
// (IPv4 preferred) and the unspecified address otherwise, whose family is
// preferred: k8s.io/apimachinery/pkg/util/net.ResolveBindAddress(family)
// picks the address of the default route's interface.
func (c *Cluster) AdvertiseAddressToDetect() (family net.IP, detect bool) {
	if c.AdvertiseAddress == "" {
		return nil, true
	}
	if ip := netutils.ParseIPSloppy(c.AdvertiseAddress); ip != nil && ip.IsUnspecified() {
		return ip, true
	}
	return nil, false
}

// APIServerVirtualIP returns the first IP of the (first) service subnet: the
// ClusterIP of the "kubernetes" Service, which the apiserver cert must name.
func (c *Cluster) APIServerVirtualIP() (net.IP, error) {
	first := strings.Split(c.ServiceSubnet, ",")[0]
	_, n, err := netutils.ParseCIDRSloppy(first)
	if err != nil {
		return nil, fmt.Errorf("invalid networking.serviceSubnet (--service-cidr) %q: %w", c.ServiceSubnet, err)
	}
	// The first usable address, as kubeadm's GetAPIServerVirtualIP finds it.
	ip, err := netutils.GetIndexedIP(n, 1)
	if err != nil {
		return nil, fmt.Errorf("invalid networking.serviceSubnet (--service-cidr) %q: too small to hold a service IP", c.ServiceSubnet)
	}
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	return ip, nil
}

// LocalAPIEndpointURL is https://advertiseAddress:bindPort, the URL kubeadm
// writes into controller-manager.conf and scheduler.conf, with the address
// in canonical form as kubeadm writes it.
func (c *Cluster) LocalAPIEndpointURL() string {
	return "https://" + net.JoinHostPort(canonicalIP(c.AdvertiseAddress), strconv.Itoa(int(c.BindPort)))
}

// ControlPlaneEndpointURL is the URL kubeadm writes into admin.conf,
// super-admin.conf and kubelet.conf: the control-plane endpoint (with the
// bind port when it names none), or the local endpoint when there is none.
// The endpoint's host is written as given, even an IP address that is not
// in canonical form ("[2001:db8:0:0::20]"), as kubeadm v1.37 writes it.
func (c *Cluster) ControlPlaneEndpointURL() string {
	if c.ControlPlaneEndpoint == "" {
		return c.LocalAPIEndpointURL()
	}
	host, port, err := splitHostPort(c.ControlPlaneEndpoint)
	if err != nil {
		return c.LocalAPIEndpointURL()
	}
	return "https://" + net.JoinHostPort(host, cmp.Or(port, strconv.Itoa(int(c.BindPort))))
}

// SplitHostPort parses "host", "host:port", "ipv4:port" or "[ipv6]:port" as
// kubeadm's ParseHostPort does; port is empty when absent. An IP host is
// returned in canonical form ("010.0.0.2" → "10.0.0.2"): it is the SAN
// kubeadm puts into the apiserver certificate.
func SplitHostPort(hostport string) (host, port string, err error) {
	host, port, err = splitHostPort(hostport)
	return canonicalIP(host), port, err
}

// splitHostPort is SplitHostPort with the host as given.
func splitHostPort(hostport string) (host, port string, err error) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
	} else {
		host = hostport
	}
	// kubeadm's ParsePort reads the port with strconv.ParseUint: digits
	// only. strconv.Atoi would take "+6443", which kubeadm refuses and
	// which no URL parser reads back from a kubeconfig's server.
	if port != "" {
		if n, err := strconv.ParseUint(port, 10, 16); err != nil || n < 1 {
			return "", "", fmt.Errorf("port %q must be a number from 1 to 65535", port)
		}
	}
	if netutils.ParseIPSloppy(host) != nil {
		return host, port, nil
	}
	if errs := validation.IsDNS1123Subdomain(host); len(errs) > 0 {
		if lower := strings.ToLower(host); len(validation.IsDNS1123Subdomain(lower)) == 0 {
			return "", "", fmt.Errorf("host %q is not an IP address or a lower-case RFC 1123 DNS name: use %q", host, lower)
		}
		return "", "", fmt.Errorf("host %q is not an IP address or an RFC 1123 DNS name such as cp.example.com", host)
	}
	return host, port, nil
}

// Node is the node's settings that its certificates depend on (SANs, CNs
// naming the node, kubeconfig servers), for pki.Node.Profile.
func (c *Cluster) Node() (pki.Node, error) {
	advertise := net.ParseIP(c.AdvertiseAddress)
	if advertise == nil {
		return pki.Node{}, fmt.Errorf("pki: invalid advertise address %q", c.AdvertiseAddress)
	}
	if v4 := advertise.To4(); v4 != nil {
		advertise = v4
	}
	vip, err := c.APIServerVirtualIP()
	if err != nil {
		return pki.Node{}, err
	}
	var cpHost string
	if c.ControlPlaneEndpoint != "" {
		if cpHost, _, err = SplitHostPort(c.ControlPlaneEndpoint); err != nil {
			return pki.Node{}, fmt.Errorf("pki: control-plane endpoint %q: %w", c.ControlPlaneEndpoint, err)
		}
	}
	return pki.Node{Name: c.NodeName, AdvertiseAddress: advertise, ServiceVIP: vip, ControlPlaneHost: cpHost,
		DNSDomain: c.DNSDomain, APIServerSANs: c.APIServerCertSANs, EtcdServerSANs: c.EtcdServerCertSANs,
		EtcdPeerSANs: c.EtcdPeerCertSANs, ExternalEtcd: c.ExternalEtcd,
		ControlPlaneURL: c.ControlPlaneEndpointURL(), LocalAPIURL: c.LocalAPIEndpointURL()}, nil
}

// External is etcd.external, nil without an external etcd.
func (c *Cluster) External() *ExternalEtcd {
	if !c.ExternalEtcd {
		return nil
	}
	return &c.EtcdExternal
}
