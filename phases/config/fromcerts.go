package config

import (
	"cmp"
	"crypto/x509"
	"encoding/binary"
	"math/bits"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/sets"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// The certificates a node's settings are read back from. kubeadm writes
// the apiserver certificate's IP SANs in a fixed order (certlist.go,
// GetAPIServerAltNames): the service VIP, the advertise address, then the
// control-plane endpoint's IP and apiServer.certSANs; etcd's server and
// peer certificates are named after the node (CN and first DNS SAN).
var (
	apiServerCertBase  = pki.Kubeadm().WithSANs(pki.APIServerSANs).BaseName
	etcdServerCertBase = pki.Kubeadm().WithSANs(pki.EtcdServerSANs).BaseName
	etcdPeerCertBase   = pki.Kubeadm().WithSANs(pki.EtcdPeerSANs).BaseName
)

// nodeCerts are the certificates of a node that carry its settings; nil
// when missing or unreadable.
type nodeCerts struct {
	apiserver, etcdServer, etcdPeer *x509.Certificate
}

func readNodeCerts(certDir string) nodeCerts {
	read := func(base string) *x509.Certificate {
		c, _, _ := pki.Store{Dir: certDir}.ReadCert(base) // nil when missing or unreadable
		return c
	}
	return nodeCerts{read(apiServerCertBase), read(etcdServerCertBase), read(etcdPeerCertBase)}
}

func (n nodeCerts) empty() bool {
	return n.apiserver == nil && n.etcdServer == nil && n.etcdPeer == nil
}

// FromCertificates derives the settings that decide certificates from the
// certificates and kubeconfig files of a node, on top of base, for a node
// without a configuration file whose API server cannot be reached. It
// reports false, and returns base, when certDir holds none of apiserver.crt,
// etcd/server.crt and etcd/peer.crt.
//
// What is derived: the node name (CN of etcd/server.crt, else the apiserver
// certificate's DNS name that is not a Service name), the advertise address
// and the service VIP (the apiserver certificate's second and first IP SANs,
// kubeadm's order), the service subnet (kubeadm's default when the VIP is its
// first address, else the widest subnet, at most kubeadm's 2^20 addresses,
// whose first address it is: the certificates do not record the subnet),
// the DNS domain, the bind port and the control-plane endpoint (from the
// server URLs of controller-manager.conf and admin.conf in kubeconfigDir),
// the cluster name (the cluster of admin.conf, super-admin.conf,
// controller-manager.conf or scheduler.conf, which kubeadm names after
// it), caCertificateValidityPeriod (ca.crt's period, less the backdate),
// the key algorithm, and every other SAN as apiServer.certSANs or
// etcd.local.*CertSANs, so that the profiles of the derived settings are
// the certificates' own. certificateValidityPeriod is not recorded either:
// KeepValidity is set, and CertificateValidity is the apiserver
// certificate's.
func FromCertificates(certDir, kubeconfigDir string, base Cluster) (Cluster, bool) {
	certs := readNodeCerts(certDir)
	if certs.empty() {
		return base, false
	}
	c := base
	c.CertificatesDir = certDir
	c.APIServerCertSANs, c.EtcdServerCertSANs, c.EtcdPeerCertSANs = nil, nil, nil
	if a := certs.apiserver; a != nil {
		for _, d := range a.DNSNames {
			if dom, ok := strings.CutPrefix(d, "kubernetes.default.svc."); ok {
				c.DNSDomain = dom
			}
		}
		if len(a.IPAddresses) > 0 {
			vip := a.IPAddresses[0]
			if def, err := base.APIServerVirtualIP(); err != nil || !def.Equal(vip) {
				c.ServiceSubnet = subnetOf(vip)
			}
		}
		// A certificate that ends with its CA was cut to the CA's expiry:
		// its period is not the cluster's.
		c.KeepValidity = true
		ca, _, err := pki.Store{Dir: certDir}.ReadCert(pki.Kubeadm().BaseName(pki.CAName))
		if v := a.NotAfter.Sub(a.NotBefore) - CertificateBackdate; v > 0 && (err != nil || a.NotAfter.Before(ca.NotAfter.Add(-time.Minute))) {
			c.CertificateValidity = v
		}
		if alg := pki.AlgorithmOf(a.PublicKey); alg != "" {
			c.EncryptionAlgorithm = string(alg)
		}
	}
	if ca, _, err := (pki.Store{Dir: certDir}).ReadCert(pki.Kubeadm().BaseName(pki.CAName)); err == nil {
		if v := caValidity(ca); v > 0 {
			c.CACertificateValidity = v
		}
	}
	// The advertise address first: admin.conf points at it when there is
	// no control-plane endpoint; then the name, which is not that endpoint.
	adv := c
	NodeFromCertificates(&adv, certs)
	c.AdvertiseAddress = adv.AdvertiseAddress
	c.fromKubeconfigs(kubeconfigDir)
	NodeFromCertificates(&c, certs)
	// Every SAN the profiles do not make is an extra one.
	if n, err := c.Node(); err == nil {
		c.APIServerCertSANs = extraSANs(certs.apiserver, n, pki.APIServerSANs)
		c.EtcdServerCertSANs = extraSANs(certs.etcdServer, n, pki.EtcdServerSANs)
		c.EtcdPeerCertSANs = extraSANs(certs.etcdPeer, n, pki.EtcdPeerSANs)
	}
	return c, true
}

// NodeFromCertificates sets the node name and advertise address that c
// lacks from the node's certificates (see FromCertificates). kubeadm's
// ClusterConfiguration does not hold them: kubeadm reads them from the
// node (its kubelet's client certificate and its kube-apiserver's
// annotation); the etcd and apiserver certificates say the same.
func NodeFromCertificates(c *Cluster, certs nodeCerts) {
	if c.NodeName == "" {
		switch {
		case certs.etcdServer != nil && certs.etcdServer.Subject.CommonName != "":
			c.NodeName = certs.etcdServer.Subject.CommonName
		case certs.etcdPeer != nil && certs.etcdPeer.Subject.CommonName != "":
			c.NodeName = certs.etcdPeer.Subject.CommonName
		case certs.apiserver != nil:
			c.NodeName = nodeNameIn(certs.apiserver.DNSNames, c)
		}
	}
	if c.AdvertiseAddress == "" {
		switch {
		case certs.apiserver != nil && len(certs.apiserver.IPAddresses) > 1:
			c.AdvertiseAddress = certs.apiserver.IPAddresses[1].String()
		case certs.etcdServer != nil && len(certs.etcdServer.IPAddresses) > 0:
			c.AdvertiseAddress = certs.etcdServer.IPAddresses[0].String()
		}
	}
}

// NodeFromCertificatesIn is NodeFromCertificates on the certificates of
// certDir; it reports whether any was found.
func NodeFromCertificatesIn(c *Cluster, certDir string) bool {
	certs := readNodeCerts(certDir)
	NodeFromCertificates(c, certs)
	return !certs.empty()
}

// nodeNameIn picks the node's name among the apiserver certificate's DNS
// names: the one that is neither a name of the kubernetes Service, the
// control-plane endpoint nor an apiServer.certSANs entry; the first such.
func nodeNameIn(dns []string, c *Cluster) string {
	cpHost, _, _ := SplitHostPort(c.ControlPlaneEndpoint)
	for _, d := range dns {
		if d == "kubernetes" || strings.HasPrefix(d, "kubernetes.default") || d == cpHost || slices.Contains(c.APIServerCertSANs, d) {
			continue
		}
		return d
	}
	return ""
}

// caValidity is the caCertificateValidityPeriod ca was made with:
// NotAfter − NotBefore − the 5-minute backdate kubeadm (since v1.31) and
// certctl give it, or without the backdate when only that is whole hours
// (a CA of an older kubeadm, whose NotBefore was its "now").
func caValidity(ca *x509.Certificate) time.Duration {
	d := ca.NotAfter.Sub(ca.NotBefore)
	if v := d - CertificateBackdate; v%time.Hour != 0 && d%time.Hour == 0 {
		return d
	}
	return d - CertificateBackdate
}

// kubeadmClusterNamers are the kubeconfig files whose cluster kubeadm
// names after clusterName, in the order they are trusted; not kubelet.conf,
// which the kubelet's TLS bootstrap writes with "default-cluster" on a
// joined node.
var kubeadmClusterNamers = []string{pki.AdminKubeconfig, pki.SuperAdminKubeconfig, pki.Kubeadm().Restarting(pki.KubeControllerManager), pki.Kubeadm().Restarting(pki.KubeScheduler)}

// clusterNameFrom is the cluster name of the current context of the first
// of kubeadmClusterNamers in dir that has one; "" for none.
func clusterNameFrom(dir string) string {
	for _, name := range kubeadmClusterNamers {
		cfg, err := kubeconfig.Load(filepath.Join(dir, name))
		if err != nil {
			continue
		}
		if cluster, _, _, _, err := kubeconfig.Current(cfg); err == nil && cluster != "" {
			return cluster
		}
	}
	return ""
}

// fromKubeconfigs reads the cluster name (clusterNameFrom), the bind port
// (bindPortFrom), and the control-plane endpoint from admin.conf when it
// points elsewhere than the local endpoint.
func (c *Cluster) fromKubeconfigs(dir string) {
	c.bindPortFrom(dir)
	c.ClusterName = cmp.Or(clusterNameFrom(dir), c.ClusterName)
	host, port := serverOf(dir, pki.AdminKubeconfig)
	if host == "" {
		return
	}
	port = cmp.Or(port, "443")
	if canonicalIP(host) == canonicalIP(c.AdvertiseAddress) && port == strconv.Itoa(int(c.BindPort)) {
		c.ControlPlaneEndpoint = "" // the local endpoint: there is none
		return
	}
	c.ControlPlaneEndpoint = net.JoinHostPort(host, port)
}

// serverOf is the host and port of the server of kubeconfig file name in
// dir (its current context's cluster); empty when it cannot be read.
func serverOf(dir, name string) (host, port string) {
	cfg, err := kubeconfig.Load(filepath.Join(dir, name))
	if err != nil {
		return "", ""
	}
	_, cl, _, _, err := kubeconfig.Current(cfg)
	if err != nil || cl == nil {
		return "", ""
	}
	u, err := url.Parse(cl.Server)
	if err != nil {
		return "", ""
	}
	return u.Hostname(), u.Port()
}

// bindPortFrom sets the bind port (localAPIEndpoint.bindPort) from the
// server of controller-manager.conf in dir, which kubeadm points at the
// local endpoint; c keeps its own when the file does not say.
func (c *Cluster) bindPortFrom(dir string) {
	if _, port := serverOf(dir, pki.Kubeadm().Restarting(pki.KubeControllerManager)); port != "" {
		if p, err := strconv.Atoi(port); err == nil && p > 0 && p < 65536 {
			c.BindPort = int32(p)
		}
	}
}

// extraSANs lists cert's SANs that n's profile of the set does not make,
// in the certificate's order.
func extraSANs(cert *x509.Certificate, n pki.Node, set pki.SANSet) []string {
	if cert == nil {
		return nil
	}
	p := n.Profile(pki.Kubeadm().WithSANs(set))
	made := sets.New(p.DNSNames...)
	for _, ip := range p.IPs {
		made.Insert(ip.String())
	}
	var out []string
	for _, d := range cert.DNSNames {
		if !made.Has(d) {
			out = append(out, d)
		}
	}
	for _, ip := range cert.IPAddresses {
		if !made.Has(ip.String()) {
			out = append(out, ip.String())
		}
	}
	return out
}

// subnetOf returns the widest subnet whose first address is vip, with at
// most 2^20 addresses (kubeadm's limit), as a CIDR. When vip−1 is the
// network of no subnet of kubeadm's minimum size (fewer than 4 trailing
// zero bits, as 10.96.0.10's 10.96.0.9), none has vip as its first
// address: it is the smallest subnet of at least that size that holds
// vip−1 and vip, whose VIP differs from vip (extraSANs keeps vip as an
// extra SAN). Either way the CIDR's address is its network address: as
// "10.96.0.9/28" it read as 10.96.0.0/28 to kubeadm and the API server.
func subnetOf(vip net.IP) string {
	// 16 addresses: the fewest of a CIDR that holds minServiceSubnetAddresses.
	const minServiceSubnetHostBits = 4
	addr, ok := netip.AddrFromSlice(vip)
	if !ok {
		return ""
	}
	addr = addr.Unmap()
	network := addr.Prev()
	b := network.AsSlice()
	hostBits := min(bits.TrailingZeros32(binary.BigEndian.Uint32(b[len(b)-4:])), maxServiceSubnetHostBits)
	prefix := func() netip.Prefix { return netip.PrefixFrom(network, addr.BitLen()-hostBits).Masked() }
	for hostBits < minServiceSubnetHostBits || (!prefix().Contains(addr) && hostBits < maxServiceSubnetHostBits) {
		hostBits++
	}
	return prefix().String()
}
