package staticpods

import (
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/certctl/certctl/manifests"
	"github.com/certctl/certctl/pki"
)

// Endpoint is a local TLS endpoint of a component and the certificate file
// it serves there.
type Endpoint struct {
	Name     string `json:"name"`     // "secure port", "client port", "peer port"
	Address  string `json:"address"`  // HOST:PORT to dial
	CertFile string `json:"certFile"` // host path
}

// The components' defaults for flags kubeadm may leave out
// (kube-apiserver, kube-controller-manager and kube-scheduler's
// --secure-port; etcd's listen URLs).
var defaultPort = map[string]string{
	pki.KubeAPIServer:         "6443",
	pki.KubeControllerManager: "10257",
	pki.KubeScheduler:         "10259",
}

const (
	defaultEtcdClientURLs = "http://localhost:2379"
	defaultEtcdPeerURLs   = "http://localhost:2380"
)

// Flag is the value of the component's flag --name, "" when it is not set.
func (m *Manifest) Flag(name string) string { return m.flag(name, "") }

func (m *Manifest) flag(name, def string) string {
	if v, ok := manifests.FlagValue(m.container, name); ok && v != "" {
		return v
	}
	return def
}

// endpoints lists where m's component serves certificates from files:
// kube-apiserver's secure port (--tls-cert-file), etcd's client port
// (--cert-file) and peer port (--peer-cert-file). kube-controller-manager
// and kube-scheduler serve certificates they make themselves.
func (m *Manifest) endpoints() []Endpoint {
	var out []Endpoint
	add := func(name, addr, certFlag string) {
		v := m.flag(certFlag, "")
		if addr == "" || v == "" {
			return
		}
		if host, ok := manifests.HostPath(m.pod, m.container, v); ok {
			out = append(out, Endpoint{Name: name, Address: addr, CertFile: host})
		}
	}
	switch m.Component {
	case pki.KubeAPIServer:
		add("secure port", m.apiServerAddress(), "tls-cert-file")
	case pki.Etcd:
		add("client port", etcdAddress(m.flag("listen-client-urls", defaultEtcdClientURLs)), "cert-file")
		add("peer port", etcdAddress(m.flag("listen-peer-urls", defaultEtcdPeerURLs)), "peer-cert-file")
	}
	return out
}

// APIServerAddress returns where the folder's kube-apiserver serves, as
// Restart checks it (HOST:PORT of its secure port); "" when the folder has
// no kube-apiserver manifest.
func (s *Set) APIServerAddress() string {
	for _, m := range s.Manifests {
		if m.Component == pki.KubeAPIServer {
			return m.apiServerAddress()
		}
	}
	return ""
}

// apiServerAddress is where kube-apiserver can be reached on this node, as
// HOST:PORT of its secure port. HOST is its --bind-address when that is one
// address, else its --advertise-address (kubeadm sets it and leaves
// --bind-address to listen everywhere), else the loopback address.
func (m *Manifest) apiServerAddress() string {
	host := "127.0.0.1"
	for _, f := range []string{"advertise-address", "bind-address"} { // the last one set wins
		if ip := net.ParseIP(m.flag(f, "")); ip != nil && !ip.IsUnspecified() {
			host = ip.String()
		}
	}
	return net.JoinHostPort(host, m.flag("secure-port", defaultPort[pki.KubeAPIServer]))
}

// etcdAddress picks, from etcd's comma-separated listen URLs, an https one,
// a loopback one first (kubeadm lists https://127.0.0.1:2379 first), and
// returns HOST:PORT to dial; "" when etcd serves no TLS there.
func etcdAddress(urls string) string {
	var best string
	for _, s := range strings.Split(urls, ",") {
		u, err := url.Parse(strings.TrimSpace(s))
		if err != nil || u.Scheme != "https" || u.Port() == "" {
			continue
		}
		host := u.Hostname()
		ip := net.ParseIP(host)
		switch {
		case ip != nil && ip.IsUnspecified() && ip.To4() != nil:
			host = "127.0.0.1"
		case ip != nil && ip.IsUnspecified():
			host = "::1"
		}
		addr := net.JoinHostPort(host, u.Port())
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			return addr
		}
		if best == "" {
			best = addr
		}
	}
	return best
}

// port is where m's component listens (its secure port, etcd's client
// port), to find its process; 0 if unknown.
func (m *Manifest) port() int {
	var p string
	if m.Component == pki.Etcd {
		if _, port, err := net.SplitHostPort(etcdAddress(m.flag("listen-client-urls", defaultEtcdClientURLs))); err == nil {
			p = port
		} else if u, err := url.Parse(strings.Split(m.flag("listen-client-urls", defaultEtcdClientURLs), ",")[0]); err == nil {
			p = u.Port()
		}
	} else {
		p = m.flag("secure-port", defaultPort[m.Component])
	}
	n, err := strconv.Atoi(p)
	if err != nil || n <= 0 || n > 65535 {
		return 0
	}
	return n
}

// listenHost is the IP address the component's port is bound on, from
// etcd's first --listen-client-urls or the others' --bind-address; "" when
// it listens on every address (unset, 0.0.0.0, ::) or names a host.
func (m *Manifest) listenHost() string {
	h := m.flag("bind-address", "")
	if m.Component == pki.Etcd {
		h = ""
		if u, err := url.Parse(strings.Split(m.flag("listen-client-urls", defaultEtcdClientURLs), ",")[0]); err == nil {
			h = u.Hostname()
		}
	}
	ip := net.ParseIP(h)
	if ip == nil || ip.IsUnspecified() {
		return ""
	}
	return ip.String()
}
