package pki

import (
	"crypto/x509"
	"fmt"
	"net"
	"slices"
	"sort"

	"github.com/certctl/certctl/phases/config"
)

// Names of the CAs, as kubeadm names their phases.
const (
	CAName           = "ca"
	FrontProxyCAName = "front-proxy-ca"
	EtcdCAName       = "etcd-ca"
)

// Group names kubeadm puts in certificate subjects.
const (
	MastersGroup        = "system:masters"
	ClusterAdminsGroup  = "kubeadm:cluster-admins"
	NodesGroup          = "system:nodes"
	NodesUserPrefix     = "system:node:"
	ControllerManagerCN = "system:kube-controller-manager"
	SchedulerCN         = "system:kube-scheduler"
)

var (
	serverAuth       = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	clientAuth       = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	serverClientAuth = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
)

// Certificates returns the profiles of every certificate kubeadm v1.37 makes
// for a control-plane node (cmd/kubeadm/app/phases/certs/certlist.go), in
// kubeadm's order: each CA before the leaves it signs. With an external etcd
// the etcd certificates are left out, as kubeadm does.
//
// Since v1.29 kubeadm no longer puts O=system:masters in the client certs of
// the apiserver (to kubelets and etcd) and etcd's healthcheck client: the
// API server authorizes kube-apiserver-kubelet-client by RBAC, and etcd
// ignores O. test/compat checks these profiles against the kubeadm binary.
func Certificates(c *config.Cluster) ([]Profile, error) {
	apiserverDNS, apiserverIPs, err := apiServerSANs(c)
	if err != nil {
		return nil, err
	}
	advertise, err := advertiseIP(c)
	if err != nil {
		return nil, err
	}
	etcdDNS := []string{c.NodeName, "localhost"}
	etcdIPs := []net.IP{advertise, net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback}
	serverDNS, serverIPs := withSANs(etcdDNS, etcdIPs, c.EtcdServerCertSANs)
	peerDNS, peerIPs := withSANs(etcdDNS, etcdIPs, c.EtcdPeerCertSANs)

	list := []Profile{
		{Name: CAName, BaseName: "ca", IsCA: true, CommonName: "kubernetes",
			LongName: "self-signed Kubernetes CA to provision identities for other Kubernetes components"},
		{Name: "apiserver", BaseName: "apiserver", CAName: CAName, CommonName: "kube-apiserver",
			DNSNames: apiserverDNS, IPs: apiserverIPs, ExtKeyUsages: serverAuth,
			LongName: "certificate for serving the Kubernetes API"},
		{Name: "apiserver-kubelet-client", BaseName: "apiserver-kubelet-client", CAName: CAName,
			CommonName: "kube-apiserver-kubelet-client", ExtKeyUsages: clientAuth,
			LongName: "certificate for the API server to connect to kubelet"},
		{Name: FrontProxyCAName, BaseName: "front-proxy-ca", IsCA: true, CommonName: "front-proxy-ca",
			LongName: "self-signed CA to provision identities for front proxy"},
		{Name: "front-proxy-client", BaseName: "front-proxy-client", CAName: FrontProxyCAName,
			CommonName: "front-proxy-client", ExtKeyUsages: clientAuth,
			LongName: "certificate for the front proxy client"},
	}
	if c.ExternalEtcd {
		return list, nil
	}
	return append(list,
		Profile{Name: EtcdCAName, BaseName: "etcd/ca", IsCA: true, CommonName: "etcd-ca",
			LongName: "self-signed CA to provision identities for etcd"},
		Profile{Name: "etcd-server", BaseName: "etcd/server", CAName: EtcdCAName, CommonName: c.NodeName,
			DNSNames: serverDNS, IPs: serverIPs, ExtKeyUsages: serverClientAuth,
			LongName: "certificate for serving etcd"},
		Profile{Name: "etcd-peer", BaseName: "etcd/peer", CAName: EtcdCAName, CommonName: c.NodeName,
			DNSNames: peerDNS, IPs: peerIPs, ExtKeyUsages: serverClientAuth,
			LongName: "certificate for etcd nodes to communicate with each other"},
		Profile{Name: "etcd-healthcheck-client", BaseName: "etcd/healthcheck-client", CAName: EtcdCAName,
			CommonName: "kube-etcd-healthcheck-client", ExtKeyUsages: clientAuth,
			LongName: "certificate for liveness probes to healthcheck etcd"},
		Profile{Name: "apiserver-etcd-client", BaseName: "apiserver-etcd-client", CAName: EtcdCAName,
			CommonName: "kube-apiserver-etcd-client", ExtKeyUsages: clientAuth,
			LongName: "certificate the apiserver uses to access etcd"},
	), nil
}

// KubeconfigProfile is a kubeconfig file with an embedded client certificate.
type KubeconfigProfile struct {
	Profile        // Name "admin", BaseName "admin.conf", CAName "ca"
	Server  string // the API server URL the file points at
}

// Kubeconfigs returns kubeadm's kubeconfig files in kubeadm's order
// (cmd/kubeadm/app/phases/kubeconfig/kubeconfig.go, getKubeConfigSpecsBase):
// admin and super-admin use the control-plane endpoint; kubelet,
// controller-manager and scheduler the local API endpoint (kubeadm's init
// phase clears the endpoint for kubelet.conf, cmd/phases/init/kubeconfig.go).
func Kubeconfigs(c *config.Cluster) []KubeconfigProfile {
	cpe, local := c.ControlPlaneEndpointURL(), c.LocalAPIEndpointURL()
	mk := func(name, cn string, org []string, server, long string) KubeconfigProfile {
		return KubeconfigProfile{Profile: Profile{Name: name, BaseName: name + ".conf", CAName: CAName,
			CommonName: cn, Organization: org, ExtKeyUsages: clientAuth, LongName: long}, Server: server}
	}
	return []KubeconfigProfile{
		mk("admin", "kubernetes-admin", []string{ClusterAdminsGroup}, cpe, "kubeconfig for the cluster administrator"),
		mk("super-admin", "kubernetes-super-admin", []string{MastersGroup}, cpe, "kubeconfig for the super-admin (break-glass, system:masters)"),
		mk("kubelet", NodesUserPrefix+c.NodeName, []string{NodesGroup}, local, "kubeconfig for the kubelet to use during TLS bootstrap"),
		mk("controller-manager", ControllerManagerCN, nil, local, "kubeconfig for the controller manager"),
		mk("scheduler", SchedulerCN, nil, local, "kubeconfig for the scheduler"),
	}
}

func advertiseIP(c *config.Cluster) (net.IP, error) {
	ip := net.ParseIP(c.AdvertiseAddress)
	if ip == nil {
		return nil, fmt.Errorf("pki: invalid advertise address %q", c.AdvertiseAddress)
	}
	return normalizeIP(ip), nil
}

func apiServerSANs(c *config.Cluster) ([]string, []net.IP, error) {
	advertise, err := advertiseIP(c)
	if err != nil {
		return nil, nil, err
	}
	vip, err := c.APIServerVirtualIP()
	if err != nil {
		return nil, nil, err
	}
	dns := []string{c.NodeName, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
		"kubernetes.default.svc." + c.DNSDomain}
	ips := []net.IP{vip, advertise}
	if c.ControlPlaneEndpoint != "" {
		host, _, err := config.SplitHostPort(c.ControlPlaneEndpoint)
		if err != nil {
			return nil, nil, fmt.Errorf("pki: control-plane endpoint %q: %w", c.ControlPlaneEndpoint, err)
		}
		if ip := net.ParseIP(host); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, host)
		}
	}
	dns, ips = withSANs(dns, ips, c.APIServerCertSANs)
	return dns, ips, nil
}

// withSANs adds extra SANs (IPs or DNS names) and removes duplicates the way
// kubeadm's RemoveDuplicateAltNames does: DNS names sorted, IPs in order.
func withSANs(dns []string, ips []net.IP, extra []string) ([]string, []net.IP) {
	dns, ips = slices.Clone(dns), slices.Clone(ips)
	for _, s := range extra {
		if ip := net.ParseIP(s); ip != nil {
			ips = append(ips, ip)
		} else {
			dns = append(dns, s)
		}
	}
	sort.Strings(dns)
	dns = slices.Compact(dns)
	seen := map[string]bool{}
	var outIPs []net.IP
	for _, ip := range ips {
		ip = normalizeIP(ip)
		if !seen[ip.String()] {
			seen[ip.String()] = true
			outIPs = append(outIPs, ip)
		}
	}
	return dns, outIPs
}

func normalizeIP(ip net.IP) net.IP {
	if v4 := ip.To4(); v4 != nil {
		return v4
	}
	return ip
}

// Find returns the profile named name.
func Find(list []Profile, name string) (Profile, bool) {
	for _, p := range list {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}
