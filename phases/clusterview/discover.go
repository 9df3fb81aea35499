package clusterview

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/bounded"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/copycerts"
)

// What kubeadm puts in the cluster and the view reads.
const (
	// ControlPlaneLabel marks control-plane Nodes (kubeadm's
	// constants.LabelNodeRoleControlPlane).
	ControlPlaneLabel = "node-role.kubernetes.io/control-plane"
	// APIServerEndpointAnnotation is set by kubeadm on the kube-apiserver
	// static pod (so on its mirror pod): the node's advertise address and
	// bind port, "10.0.0.1:6443".
	APIServerEndpointAnnotation = "kubeadm.kubernetes.io/kube-apiserver.advertise-address.endpoint"
	// EtcdClientURLsAnnotation is set by kubeadm on the etcd static pod:
	// the member's advertised client URLs, comma-separated.
	EtcdClientURLsAnnotation = "kubeadm.kubernetes.io/etcd.advertise-client-urls"
	// The kubeadm default ports.
	defaultAPIServerPort = 6443
	defaultEtcdClient    = 2379
	defaultEtcdPeer      = 2380
)

// node is what discovery learned of one node before any handshake.
type node struct {
	name      string
	addresses []string
	sources   []string
	apiserver string // host:port; "" when unknown
	// apiserverDefault: apiserver is the node's address at kubeadm's
	// port, no mirror pod having named it.
	apiserverDefault bool
	etcd             string
	peer             string
	memberID         string // etcd's, in hex; "" when no member
	// unlabelled: its Node exists without the control-plane label and
	// has mirror pods (warnUnlabelled).
	unlabelled bool
}

// cluster is what discovery learned.
type cluster struct {
	nodes         map[string]*node
	config        *config.Cluster // from kubeadm-config; nil when unread
	etcdURLs      []string        // etcd client URLs to ask for the member list
	sources       []string
	warnings      []string
	kubeadmCerts  *corev1.Secret
	kubeadmOwners []ownerToken // what was read of each owner of kubeadmCerts
	// nodesUnlisted: the API server was asked but did not list the
	// control-plane Nodes; the etcd members are the nodes then.
	nodesUnlisted bool
	// listed are the control-plane Nodes listed, by name: a mirror pod
	// speaks for its node only when that Node is its controller
	// (NotMirrorPod).
	listed map[string]*corev1.Node
	// unlisted are the other Nodes mirror pods name, as read (podNode).
	unlisted map[string]nodeRead
	// kubeadmCertsUnread: kubeadm-certs could not be read (not: absent).
	kubeadmCertsUnread bool
	// apiserverPodsRead: the kube-apiserver mirror pods were listed, so a
	// node without one has none.
	apiserverPodsRead bool
}

func (c *cluster) node(name string) *node {
	n := c.nodes[name]
	if n == nil {
		n = &node{name: name}
		c.nodes[name] = n
	}
	return n
}

func (n *node) addSource(s string) {
	if !slices.Contains(n.sources, s) {
		n.sources = append(n.sources, s)
	}
}

func (c *cluster) warn(format string, args ...any) {
	c.warnings = append(c.warnings, fmt.Sprintf(format, args...))
}

// fromAPI learns the nodes from the API server: the control-plane Nodes,
// the mirror pods of kube-apiserver and etcd, the kubeadm-config ConfigMap
// and the kubeadm-certs Secret. What cannot be read is a warning.
func (c *cluster) fromAPI(ctx context.Context, client kubernetes.Interface) {
	// Each read returns at ctx's end, even while the kubeconfig's exec
	// credential plugin hangs (bounded.Call).
	nodes, err := bounded.Call(ctx, func(ctx context.Context) (*corev1.NodeList, error) {
		return client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: ControlPlaneLabel})
	})
	if err != nil {
		c.warn("list the control-plane Nodes (label %s): %v: the nodes come from etcd's member list only, each kube-apiserver at kubeadm's port %d", ControlPlaneLabel, err, defaultAPIServerPort)
		c.nodesUnlisted = true
	} else {
		c.sources = append(c.sources, "nodes")
		if len(nodes.Items) == 0 {
			c.warn("the API server lists no Node with the label %s: the nodes come from etcd's member list, each kube-apiserver at kubeadm's port %d", ControlPlaneLabel, defaultAPIServerPort)
			c.nodesUnlisted = true
		}
		c.listed = map[string]*corev1.Node{}
		for i, item := range nodes.Items {
			c.listed[item.Name] = &nodes.Items[i]
			n := c.node(item.Name)
			n.addSource("node")
			n.addresses = InternalIPs(&item)
		}
	}
	c.fromPods(ctx, client)
	cm, err := bounded.Call(ctx, func(ctx context.Context) (*corev1.ConfigMap, error) {
		return client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, config.ConfigMapName, metav1.GetOptions{})
	})
	switch {
	case apierrors.IsNotFound(err):
		c.warn("kube-system/%s does not exist (not a kubeadm cluster?): the controlPlaneEndpoint and certSANs are not checked", config.ConfigMapName)
	case err != nil:
		c.warn("read kube-system/%s: %v: the controlPlaneEndpoint and certSANs are not checked", config.ConfigMapName, err)
	default:
		cfg, err := ParseKubeadmConfig(cm, config.Default())
		if err != nil {
			c.warn("%v: the controlPlaneEndpoint and certSANs are not checked", err)
		} else {
			c.config = cfg
			c.sources = append(c.sources, "kubeadm-config")
		}
	}
	s, err := bounded.Call(ctx, func(ctx context.Context) (*corev1.Secret, error) {
		return client.CoreV1().Secrets(metav1.NamespaceSystem).Get(ctx, copycerts.SecretName, metav1.GetOptions{})
	})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		c.warn("read kube-system/%s: %v", copycerts.SecretName, err)
		c.kubeadmCertsUnread = true
	default:
		c.kubeadmCerts = s
		for _, o := range s.OwnerReferences {
			c.kubeadmOwners = append(c.kubeadmOwners, c.readOwner(ctx, client, o))
		}
	}
}

// ownerToken is what was read of one owner of kubeadm-certs, a bootstrap
// token's Secret as kubeadm makes it.
type ownerToken struct {
	ref string // "Secret/bootstrap-token-abcdef"
	// gone: it does not exist, or another object of its name does
	// (another UID): the garbage collector counts it absent.
	gone bool
	// known: it was read, and its expiry is expiration.
	known      bool
	expiration string // its data["expiration"]
}

// readOwner reads the owner o of kubeadm-certs. An owner that cannot be
// read, or is not a Secret (not kubeadm's), is a warning: its expiry is
// unknown.
func (c *cluster) readOwner(ctx context.Context, client kubernetes.Interface, o metav1.OwnerReference) ownerToken {
	t := ownerToken{ref: o.Kind + "/" + o.Name}
	if o.Kind != "Secret" {
		c.warn("kube-system/%s is owned by %s, not by a bootstrap token's Secret: when it is deleted is unknown", copycerts.SecretName, t.ref)
		return t
	}
	owner, err := bounded.Call(ctx, func(ctx context.Context) (*corev1.Secret, error) {
		return client.CoreV1().Secrets(metav1.NamespaceSystem).Get(ctx, o.Name, metav1.GetOptions{})
	})
	switch {
	case apierrors.IsNotFound(err):
		t.gone = true
	case err != nil:
		c.warn("read the owner kube-system/%s of kube-system/%s: %v: its expiry is unknown", o.Name, copycerts.SecretName, err)
	case o.UID != "" && owner.UID != o.UID:
		t.gone = true // a token made again under the same ID owns nothing
	default:
		t.known, t.expiration = true, string(owner.Data["expiration"])
	}
	return t
}

// fromPods reads kubeadm's endpoint annotations of the kube-apiserver and
// etcd mirror pods.
func (c *cluster) fromPods(ctx context.Context, client kubernetes.Interface) {
	for _, comp := range MirrorPodComponents {
		pods, err := bounded.Call(ctx, func(ctx context.Context) (*corev1.PodList, error) {
			return client.CoreV1().Pods(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{LabelSelector: MirrorPodSelector + ",component=" + comp})
		})
		if err != nil {
			c.warn("list the %s pods in kube-system: %v: their ports are taken as kubeadm's defaults", comp, err)
			continue
		}
		c.apiserverPodsRead = c.apiserverPodsRead || comp == "kube-apiserver"
		for i := range pods.Items {
			p := &pods.Items[i]
			node, ok := c.podNode(ctx, client, p)
			if !ok {
				continue
			}
			if err := NotMirrorPod(p, node); err != nil {
				c.warn("%v: its endpoint annotations are ignored", err)
				continue
			}
			e := MirrorPodEndpoints(p, node)
			if e.Node == "" {
				continue
			}
			if node != nil && c.listed[e.Node] == nil {
				c.warnUnlabelled(e.Node, p)
			}
			if e.APIServer != "" {
				n := c.node(e.Node)
				n.addSource("kube-apiserver pod")
				n.apiserver = e.APIServer
			}
			if len(e.EtcdClientURLs) > 0 {
				n := c.node(e.Node)
				n.addSource("etcd pod")
				if hp := hostPort(e.EtcdClientURLs[0]); hp != "" {
					n.etcd = hp
				}
				c.etcdURLs = append(c.etcdURLs, e.EtcdClientURLs...)
			}
		}
	}
}

// fromMembers adds etcd's members: a member is named after its node, as
// kubeadm names it; its peer and client URLs are the node's etcd
// endpoints.
func (c *cluster) fromMembers(members []Member) {
	for _, m := range members {
		if m.Name == "" { // a member added but not started (yet)
			c.warn("etcd has a member that never started (peer URLs %s): it counts against etcd's quorum; unless a node is joining with it now, remove it (etcdctl member remove %s)", strings.Join(m.PeerURLs, ","), hexID(m.ID))
			continue
		}
		n := c.node(m.Name)
		n.addSource("etcd member")
		n.memberID = hexID(m.ID)
		if len(m.PeerURLs) > 0 {
			n.peer = hostPort(m.PeerURLs[0])
			if h, _, err := net.SplitHostPort(n.peer); err == nil && len(n.addresses) == 0 {
				n.addresses = []string{h}
			}
		}
		if u := pickURL(m.ClientURLs, n.addresses); u != "" {
			n.etcd = hostPort(u)
		}
	}
}

// hexID is an etcd member ID, decimal in etcd's JSON, in hex as etcdctl
// prints and takes it; as given when it is not a number.
func hexID(id string) string {
	if n, err := strconv.ParseUint(id, 10, 64); err == nil {
		return strconv.FormatUint(n, 16)
	}
	return id
}

// warnMembership says where the Nodes and etcd's members, both read,
// disagree: kubeadm names each stacked etcd member after its node.
func (c *cluster) warnMembership() {
	for _, n := range c.sorted() {
		node, member := slices.Contains(n.sources, "node"), slices.Contains(n.sources, "etcd member")
		switch {
		case member && !node:
			checked := "its kube-apiserver is not checked"
			if slices.Contains(n.sources, "kube-apiserver pod") { // its row checks it
				checked = fmt.Sprintf("its kube-apiserver is checked at the address its mirror pod kube-apiserver-%s names", n.name)
			}
			c.warn("etcd member %s is no control-plane Node: %s; if its node was removed, remove the member too (etcdctl member remove %s), since it counts against etcd's quorum", n.name, checked, cmp.Or(n.memberID, "ID"))
		case node && !member:
			c.warn("control-plane Node %s is not in etcd's member list: its etcd peer endpoint (and, without an etcd pod, its client endpoint) is not checked; check `etcdctl member list` (a removed member, or one named otherwise than its node)", n.name)
		case !node && !member && !n.unlabelled: // known from its mirror pods alone; unlabelled: said
			c.warn("mirror pod(s) of node %s in kube-system, which is no control-plane Node and no etcd member: its endpoints are checked at the addresses they name; check whether it is still a control-plane node (kubectl get node %s --show-labels): the pod garbage collector removes the pods of a deleted Node", n.name, n.name)
		}
	}
}

// fillDefaults gives every node known by its address kubeadm's default
// ports for what discovery did not find.
func (c *cluster) fillDefaults(etcdKnown bool) {
	external := c.config != nil && c.config.ExternalEtcd
	for _, n := range c.nodes {
		if len(n.addresses) == 0 {
			continue
		}
		addr := n.addresses[0]
		// A Node, or, when the Nodes could not be listed, an etcd member:
		// with a stacked etcd (the member list is read only then) each
		// member is a control-plane node, with its kube-apiserver.
		if n.apiserver == "" && (slices.Contains(n.sources, "node") || c.nodesUnlisted && slices.Contains(n.sources, "etcd member")) {
			n.apiserver = net.JoinHostPort(addr, strconv.Itoa(defaultAPIServerPort))
			n.apiserverDefault = true
		}
		if external || etcdKnown {
			continue // etcd's own member list is the truth
		}
		if n.etcd == "" {
			n.etcd = net.JoinHostPort(addr, strconv.Itoa(defaultEtcdClient))
		}
		if n.peer == "" {
			n.peer = net.JoinHostPort(addr, strconv.Itoa(defaultEtcdPeer))
		}
	}
}

// sorted returns the nodes by name.
func (c *cluster) sorted() []*node {
	return slices.SortedFunc(maps.Values(c.nodes), func(a, b *node) int { return strings.Compare(a.name, b.name) })
}

// InternalIPs returns a Node's InternalIP addresses, in its order.
func InternalIPs(n *corev1.Node) []string {
	var out []string
	for _, a := range n.Status.Addresses {
		if a.Type == corev1.NodeInternalIP && net.ParseIP(a.Address) != nil {
			out = append(out, a.Address)
		}
	}
	return out
}

// ParseKubeadmConfig reads the ClusterConfiguration of the kubeadm-config
// ConfigMap on top of base (usually config.Default()), as config.Parse
// reads a file: what it does not set keeps base's value.
func ParseKubeadmConfig(cm *corev1.ConfigMap, base config.Cluster) (*config.Cluster, error) {
	data, ok := cm.Data[config.ConfigMapKey]
	if !ok {
		return nil, fmt.Errorf("ConfigMap %s/%s has no %s key", cm.Namespace, cm.Name, config.ConfigMapKey)
	}
	f, err := config.Parse([]byte(data), base)
	if err != nil {
		return nil, fmt.Errorf("ConfigMap %s/%s: %w", cm.Namespace, cm.Name, err)
	}
	return &f.Cluster, nil
}

// pickURL picks the client URL on one of the node's addresses, else the
// first one that is not loopback, else the first.
func pickURL(urls, addresses []string) string {
	for _, u := range urls {
		if h, _, err := net.SplitHostPort(hostPort(u)); err == nil && slices.Contains(addresses, h) {
			return u
		}
	}
	for _, u := range urls {
		if h, _, err := net.SplitHostPort(hostPort(u)); err == nil {
			if ip := net.ParseIP(h); ip == nil || !ip.IsLoopback() {
				return u
			}
		}
	}
	if len(urls) > 0 {
		return urls[0]
	}
	return ""
}

// hostPort is a URL's host:port, with the https default port; "" for
// what is not a URL with a host.
func hostPort(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return ""
	}
	return net.JoinHostPort(u.Hostname(), cmp.Or(u.Port(), "443"))
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
