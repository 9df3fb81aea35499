package clusterview

import (
	"fmt"
	"net"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// MirrorPodSelector selects kubeadm's control-plane static pods (their
// mirror pods in kube-system), as kubeadm labels them.
const MirrorPodSelector = "tier=control-plane"

// MirrorPodAnnotation is the kubelet's annotation on the mirror pod of a
// static pod (kubetypes.ConfigMirrorAnnotationKey).
const MirrorPodAnnotation = "kubernetes.io/config.mirror"

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

// NotMirrorPod says why p is not a kubelet's mirror pod of a static pod
// of its node, spec.nodeName; nil when it is one. A kubelet makes a mirror
// pod with the annotation MirrorPodAnnotation and the Node as its
// controller, by name and UID (pkg/kubelet/pod/mirror_client.go), and the
// NodeRestriction admission plugin lets a kubelet create only such pods,
// for its own node. The API server lets no one add the annotation to a pod
// that exists, and a pod made by a workload controller (a Deployment, a
// DaemonSet) has that controller as its owner. Whoever may create pods in
// kube-system can still forge one; that one may also mount the CA keys of
// a control-plane node.
//
// node is the Node named in spec.nodeName as the caller read it, nil when
// it has none at hand. With it, the controller's UID must be that Node's:
// a pod left from a Node deleted and made again under its name (until the
// garbage collector deletes it and the kubelet makes it anew), or forged
// with the Node's name, is not its mirror pod.
func NotMirrorPod(p *corev1.Pod, node *corev1.Node) error {
	if _, ok := p.Annotations[MirrorPodAnnotation]; !ok {
		return fmt.Errorf("pod %s/%s is no mirror pod of a static pod (no %s annotation)", p.Namespace, p.Name, MirrorPodAnnotation)
	}
	for _, o := range p.OwnerReferences {
		if o.Controller != nil && *o.Controller {
			if o.APIVersion != "v1" || o.Kind != "Node" || o.Name != p.Spec.NodeName || o.Name == "" {
				return fmt.Errorf("pod %s/%s is no mirror pod of node %q: its controller is %s %s %q, not that Node", p.Namespace, p.Name, p.Spec.NodeName, o.APIVersion, o.Kind, o.Name)
			}
			if node != nil && (node.Name != o.Name || node.UID != o.UID) {
				return fmt.Errorf("pod %s/%s is no mirror pod of node %q: its controller is the Node of UID %q, not the Node %s of UID %q (one deleted and made again, or a forged pod)", p.Namespace, p.Name, p.Spec.NodeName, o.UID, node.Name, node.UID)
			}
			return nil
		}
	}
	return fmt.Errorf("pod %s/%s is no mirror pod of node %q: it has no controller, where a kubelet makes its Node the controller", p.Namespace, p.Name, p.Spec.NodeName)
}

// MirrorPodEndpoints reads kubeadm's endpoint annotation of a mirror pod
// of kube-apiserver or etcd (by its component label). localAPIEndpoint's
// advertiseAddress is there even when it is on another interface than the
// InternalIP the kubelet reports on the Node, or IPv6 while the Node shows
// IPv4 first. A pod that is not its node's mirror pod (NotMirrorPod, node
// as there) advertises nothing: the zero PodEndpoints.
func MirrorPodEndpoints(p *corev1.Pod, node *corev1.Node) PodEndpoints {
	if NotMirrorPod(p, node) != nil {
		return PodEndpoints{}
	}
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
