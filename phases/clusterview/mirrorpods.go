package clusterview

import (
	"net"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// MirrorPodSelector selects kubeadm's control-plane static pods (their
// mirror pods in kube-system), as kubeadm labels them.
const MirrorPodSelector = "tier=control-plane"

// MirrorPodComponents are the components whose mirror pods advertise a
// node's address in kubeadm's annotations.
var MirrorPodComponents = []string{"kube-apiserver", "etcd"}

// PodEndpoints is what kubeadm's annotations on a kube-apiserver or etcd
// mirror pod advertise for the node the pod runs on.
type PodEndpoints struct {
	Node string // spec.nodeName; "" for a pod bound to no node
	// APIServer is the kube-apiserver pod's advertise address and bind
	// port, "10.0.0.1:6443"; "" when absent or not host:port.
	APIServer string
	// EtcdClientURLs are the etcd pod's advertised client URLs.
	EtcdClientURLs []string
}

// MirrorPodEndpoints reads kubeadm's endpoint annotation of a mirror pod
// of kube-apiserver or etcd (by its component label). localAPIEndpoint's
// advertiseAddress is there even when it is on another interface than the
// InternalIP the kubelet reports on the Node, or IPv6 while the Node shows
// IPv4 first.
func MirrorPodEndpoints(p *corev1.Pod) PodEndpoints {
	e := PodEndpoints{Node: p.Spec.NodeName}
	switch p.Labels["component"] {
	case "kube-apiserver":
		ep := p.Annotations[APIServerEndpointAnnotation]
		if _, _, err := net.SplitHostPort(ep); err == nil {
			e.APIServer = ep
		}
	case "etcd":
		e.EtcdClientURLs = splitList(p.Annotations[EtcdClientURLsAnnotation])
	}
	return e
}

// Addresses returns the IP addresses the endpoints name, kube-apiserver's
// first, without duplicates, in canonical form; hostnames and 0.0.0.0 or :: are left out.
func (e PodEndpoints) Addresses() []string {
	var hosts []string
	if h, _, err := net.SplitHostPort(e.APIServer); err == nil {
		hosts = append(hosts, h)
	}
	for _, u := range e.EtcdClientURLs {
		if h, _, err := net.SplitHostPort(hostPort(u)); err == nil {
			hosts = append(hosts, h)
		}
	}
	var out []string
	for _, h := range hosts {
		ip := net.ParseIP(h)
		if ip == nil || ip.IsUnspecified() {
			continue
		}
		if s := ip.String(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
