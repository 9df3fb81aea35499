// Package config holds the few settings of a kubeadm cluster that decide its
// certificates, read from kubeadm's own configuration file (v1beta4 or
// v1beta3) or given as flags. Field names follow kubeadm's so that the same
// file given to kubeadm and to certctl gives the same certificates.
package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation"
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
	// SignerNames maps a certificate's name as `certctl renew` spells it
	// ("apiserver", "admin.conf") to the signer name its CSR asks for with
	// --use-api, instead of the default one (renewal.signerNames of a
	// CertctlConfiguration document, or --signer-name). Not kubeadm's.
	SignerNames map[string]string
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

// Validate checks every field and returns the first problem found, naming
// the setting (with its flag and config file spelling) and the bad value.
func (c *Cluster) Validate() error {
	if c.CertificatesDir == "" {
		return fmt.Errorf("certificatesDir (--cert-dir) must not be empty")
	}
	if c.ClusterName == "" {
		return fmt.Errorf("clusterName must not be empty")
	}
	if ip := net.ParseIP(c.AdvertiseAddress); ip == nil {
		return fmt.Errorf("invalid localAPIEndpoint.advertiseAddress (--apiserver-advertise-address) %q: not an IP address", c.AdvertiseAddress)
	}
	if c.BindPort < 1 || c.BindPort > 65535 {
		return fmt.Errorf("invalid localAPIEndpoint.bindPort (--apiserver-bind-port) %d: must be 1-65535", c.BindPort)
	}
	if _, err := c.APIServerVirtualIP(); err != nil {
		return err
	}
	if errs := validation.IsDNS1123Subdomain(c.DNSDomain); len(errs) > 0 {
		return fmt.Errorf("invalid networking.dnsDomain (--service-dns-domain) %q: %s", c.DNSDomain, strings.Join(errs, "; "))
	}
	if c.ControlPlaneEndpoint != "" {
		if _, _, err := SplitHostPort(c.ControlPlaneEndpoint); err != nil {
			return fmt.Errorf("invalid controlPlaneEndpoint (--control-plane-endpoint) %q: %w", c.ControlPlaneEndpoint, err)
		}
	}
	if c.NodeName == "" {
		return fmt.Errorf("nodeRegistration.name (--node-name) must not be empty")
	}
	if errs := validation.IsDNS1123Subdomain(c.NodeName); len(errs) > 0 {
		return fmt.Errorf("invalid nodeRegistration.name (--node-name) %q: %s", c.NodeName, strings.Join(errs, "; "))
	}
	if !validAlgorithm(c.EncryptionAlgorithm) {
		return fmt.Errorf("unknown encryptionAlgorithm (--encryption-algorithm) %q: use one of %s", c.EncryptionAlgorithm, strings.Join(EncryptionAlgorithms, ", "))
	}
	if c.CertificateValidity <= 0 {
		return fmt.Errorf("invalid certificateValidityPeriod %v: must be positive", c.CertificateValidity)
	}
	if c.CACertificateValidity <= 0 {
		return fmt.Errorf("invalid caCertificateValidityPeriod %v: must be positive", c.CACertificateValidity)
	}
	for _, set := range []struct {
		name string
		sans []string
	}{
		{"apiServer.certSANs (--apiserver-cert-extra-sans)", c.APIServerCertSANs},
		{"etcd.local.serverCertSANs", c.EtcdServerCertSANs},
		{"etcd.local.peerCertSANs", c.EtcdPeerCertSANs},
	} {
		for _, s := range set.sans {
			if !validSAN(s) {
				return fmt.Errorf("invalid %s entry %q: not an IP address or an RFC 1123 DNS name", set.name, s)
			}
		}
	}
	return nil
}

// APIServerVirtualIP returns the first IP of the (first) service subnet: the
// ClusterIP of the "kubernetes" Service, which the apiserver cert must name.
func (c *Cluster) APIServerVirtualIP() (net.IP, error) {
	first := strings.TrimSpace(strings.Split(c.ServiceSubnet, ",")[0])
	_, n, err := net.ParseCIDR(first)
	if err != nil {
		return nil, fmt.Errorf("invalid networking.serviceSubnet (--service-cidr) %q: %w", c.ServiceSubnet, err)
	}
	ip := make(net.IP, len(n.IP))
	copy(ip, n.IP)
	// The first usable address: network address + 1.
	for i := len(ip) - 1; i >= 0; i-- {
		ip[i]++
		if ip[i] != 0 {
			break
		}
	}
	if !n.Contains(ip) {
		return nil, fmt.Errorf("invalid networking.serviceSubnet (--service-cidr) %q: too small to hold a service IP", c.ServiceSubnet)
	}
	if v4 := ip.To4(); v4 != nil {
		ip = v4
	}
	return ip, nil
}

// LocalAPIEndpointURL is https://advertiseAddress:bindPort, the URL kubeadm
// writes into controller-manager.conf and scheduler.conf.
func (c *Cluster) LocalAPIEndpointURL() string {
	return "https://" + net.JoinHostPort(c.AdvertiseAddress, strconv.Itoa(int(c.BindPort)))
}

// ControlPlaneEndpointURL is the URL kubeadm writes into admin.conf,
// super-admin.conf and kubelet.conf: the control-plane endpoint (with the
// bind port when it names none), or the local endpoint when there is none.
func (c *Cluster) ControlPlaneEndpointURL() string {
	if c.ControlPlaneEndpoint == "" {
		return c.LocalAPIEndpointURL()
	}
	host, port, err := SplitHostPort(c.ControlPlaneEndpoint)
	if err != nil {
		return c.LocalAPIEndpointURL()
	}
	if port == "" {
		port = strconv.Itoa(int(c.BindPort))
	}
	return "https://" + net.JoinHostPort(host, port)
}

// SplitHostPort parses "host", "host:port", "ipv4:port" or "[ipv6]:port" as
// kubeadm's ParseHostPort does; port is empty when absent.
func SplitHostPort(hostport string) (host, port string, err error) {
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
	} else {
		host = hostport
	}
	if port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return "", "", fmt.Errorf("port %q must be a number from 1 to 65535", port)
		}
	}
	if net.ParseIP(host) != nil {
		return host, port, nil
	}
	if errs := validation.IsDNS1123Subdomain(host); len(errs) > 0 {
		return "", "", fmt.Errorf("host %q is not an IP address or a DNS name", host)
	}
	return host, port, nil
}

func validAlgorithm(a string) bool {
	for _, v := range EncryptionAlgorithms {
		if a == v {
			return true
		}
	}
	return false
}

// validSAN accepts what kubeadm's appendSANsToAltNames accepts: an IP, a DNS
// name, or a wildcard DNS name. kubeadm drops anything else with a warning;
// certctl refuses it, because a silently missing SAN breaks clients later.
func validSAN(s string) bool {
	return net.ParseIP(s) != nil ||
		len(validation.IsDNS1123Subdomain(s)) == 0 ||
		len(validation.IsWildcardDNS1123Subdomain(s)) == 0
}
