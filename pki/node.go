package pki

import (
	"net"
	"slices"
	"sort"
)

// Node is what the certificates of one control-plane node depend on beyond
// their Entry: SANs, a CN naming the node, the URLs kubeconfigs point at.
// phases/config builds it from kubeadm's configuration.
type Node struct {
	Name             string // the node name
	AdvertiseAddress net.IP
	ServiceVIP       net.IP // the ClusterIP of the "kubernetes" Service
	// ControlPlaneHost is the control-plane endpoint's host (a DNS name or
	// an IP in canonical form), "" when there is none.
	ControlPlaneHost string
	DNSDomain        string
	// Extra SANs (IPs or DNS names) of the apiserver, etcd server and etcd
	// peer certificates.
	APIServerSANs, EtcdServerSANs, EtcdPeerSANs []string
	ExternalEtcd                                bool
	// ControlPlaneURL and LocalAPIURL are the API server URLs the
	// kubeconfigs point at (Entry.ControlPlaneServer).
	ControlPlaneURL, LocalAPIURL string
}

// Profile is e's profile on node n: kubeadm's subject, SANs and usages.
func (n Node) Profile(e Entry) Profile {
	p := Profile{Name: e.Name, BaseName: e.BaseName, CAName: e.CAName, LongName: e.LongName,
		CommonName: e.CommonName, Organization: slices.Clone(e.Organization),
		ExtKeyUsages: slices.Clone(e.ExtKeyUsages), IsCA: e.Kind == KindCA}
	if e.NodeCN {
		p.CommonName += n.Name
	}
	etcdDNS := []string{n.Name, "localhost"}
	etcdIPs := []net.IP{n.AdvertiseAddress, net.IPv4(127, 0, 0, 1).To4(), net.IPv6loopback}
	switch e.SANs {
	case APIServerSANs:
		// The control-plane endpoint's host is a SAN like the extra ones.
		extra := n.APIServerSANs
		if n.ControlPlaneHost != "" {
			extra = append([]string{n.ControlPlaneHost}, extra...)
		}
		p.DNSNames, p.IPs = withSANs([]string{n.Name, "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc." + n.DNSDomain}, []net.IP{n.ServiceVIP, n.AdvertiseAddress}, extra)
	case EtcdServerSANs:
		p.DNSNames, p.IPs = withSANs(etcdDNS, etcdIPs, n.EtcdServerSANs)
	case EtcdPeerSANs:
		p.DNSNames, p.IPs = withSANs(etcdDNS, etcdIPs, n.EtcdPeerSANs)
	}
	return p
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
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		if !seen[ip.String()] {
			seen[ip.String()] = true
			outIPs = append(outIPs, ip)
		}
	}
	return dns, outIPs
}
