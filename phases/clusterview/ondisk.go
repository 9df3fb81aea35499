package clusterview

import (
	"crypto/x509"
	"net"
	"slices"

	"github.com/certctl/certctl/manifests/staticpods"
	"github.com/certctl/certctl/pki"
)

// compareWithDisk checks the endpoints of this host, those at one of
// local's addresses: each must serve its component's certificate file in
// st. A node's files are only ever compared with what that node serves;
// the controlPlaneEndpoint, which may be a VIP this host holds, is not.
func compareWithDisk(nodes []Node, st pki.Store, local []net.IP) {
	files := map[string]*x509.Certificate{}
	paths := map[string]string{}
	for _, comp := range []string{APIServer, EtcdClient, EtcdPeer} {
		paths[comp] = st.CertPath(componentEntry(comp).BaseName)
		if cert, _, err := pki.ReadCertFile(paths[comp]); err == nil {
			files[comp] = cert // a missing file: the node view's problem
		}
	}
	for i := range nodes {
		for j := range nodes[i].Endpoints {
			ep := &nodes[i].Endpoints[j]
			onDisk := files[ep.Component]
			if ep.ExpirationDate == nil || onDisk == nil || !isLocal(ep.Address, local) {
				continue
			}
			serial := staticpods.Serial(onDisk)
			if ep.Serial == serial && ep.Issuer == onDisk.Issuer.String() {
				continue
			}
			component := pki.KubeAPIServer
			if ep.Component != APIServer {
				component = pki.Etcd
			}
			ep.add(DiffersFromDisk, "%s at %s (this host) serves serial %s, expiring %s, not %s (serial %s, expiring %s): restart %s on this host so that it loads the file: move its manifest out of the manifest folder and back (docs/renew.md)",
				ep.Component, ep.Address, ep.Serial, ep.ExpirationDate.Format("2006-01-02 15:04"), paths[ep.Component], serial, onDisk.NotAfter.UTC().Format("2006-01-02 15:04"), component)
		}
	}
}

// isLocal says whether addr (host:port) is at one of local's addresses.
func isLocal(addr string, local []net.IP) bool {
	host, _, err := net.SplitHostPort(addr)
	ip := net.ParseIP(host)
	return err == nil && ip != nil && slices.ContainsFunc(local, ip.Equal)
}

// hostIPs are the addresses of this host's interfaces; none when they
// cannot be listed (then no endpoint is taken for this host's).
func hostIPs() []net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []net.IP
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			out = append(out, n.IP)
		}
	}
	return out
}

// componentEntry is the certificate file a component serves on its endpoint.
func componentEntry(component string) pki.Entry {
	set := pki.APIServerSANs
	switch component {
	case EtcdClient:
		set = pki.EtcdServerSANs
	case EtcdPeer:
		set = pki.EtcdPeerSANs
	}
	return pki.Kubeadm().WithSANs(set)
}
