package signer

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"

	"github.com/certctl/certctl/internal/bounded"
	"github.com/certctl/certctl/phases/clusterview"
	"github.com/certctl/certctl/phases/config"
)

// A PolicyProvider gives the policy to check a request with now: a
// *Policy (always itself), or a *NodeWatcher that follows the cluster's
// control-plane nodes.
type PolicyProvider interface {
	Current() *Policy
}

// Current returns p: a fixed policy.
func (p *Policy) Current() *Policy { return p }

// ControlPlaneNodes derives one configuration per control-plane node of
// the cluster: base (the settings from the flags and --config), with, when
// cm (the kubeadm-config ConfigMap) is not nil and fromConfigMap is set,
// its ClusterConfiguration applied over it (controlPlaneEndpoint, certSANs,
// serviceSubnet, dnsDomain, etcd's SANs), and each Node's name and first
// InternalIP (IPv4 first, as kubeadm advertises). Nodes without the
// control-plane label or without an InternalIP are skipped, with a note.
// The result is sorted by name.
func ControlPlaneNodes(nodes []*corev1.Node, cm *corev1.ConfigMap, base config.Cluster, fromConfigMap bool) ([]*config.Cluster, []string, error) {
	return ControlPlaneNodesAndPods(nodes, nil, cm, base, fromConfigMap)
}

// ControlPlaneNodesAndPods is ControlPlaneNodes with the addresses that
// the node's kube-apiserver and etcd mirror pods in pods advertise
// (clusterview.MirrorPodEndpoints: kubeadm's localAPIEndpoint), which
// may be on another interface than the Node's InternalIP, or IPv6. A
// node gets one configuration per address, its InternalIP's first: a
// request fits when it is kubeadm's certificate of the node at one of
// them. A pod whose node is no control-plane Node adds nothing, nor does
// one that is not the mirror pod of its node (clusterview.NotMirrorPod:
// the Node in nodes of its name and UID is its controller), with a note.
func ControlPlaneNodesAndPods(nodes []*corev1.Node, pods []*corev1.Pod, cm *corev1.ConfigMap, base config.Cluster, fromConfigMap bool) ([]*config.Cluster, []string, error) {
	var notes []string
	if cm != nil && fromConfigMap {
		c, err := clusterview.ParseKubeadmConfig(cm, base)
		if err != nil {
			return nil, nil, err
		}
		base = *c
		base.Normalize()
	}
	byName := make(map[string]*corev1.Node, len(nodes))
	for _, n := range nodes {
		byName[n.Name] = n
	}
	advertised := map[string][]string{} // node name -> addresses of its mirror pods
	for _, p := range pods {
		// Only a kubelet's mirror pod speaks for its node, the Node of
		// that name and UID: another pod in kube-system with kubeadm's
		// labels and annotations adds nothing, nor does one left from a
		// Node deleted and made again.
		node := byName[p.Spec.NodeName]
		if err := clusterview.NotMirrorPod(p, node); err != nil {
			notes = append(notes, fmt.Sprintf("%v: the addresses it advertises are not accepted", err))
			continue
		}
		e := clusterview.MirrorPodEndpoints(p, node)
		for _, a := range e.Addresses() {
			if e.Node != "" && !slices.Contains(advertised[e.Node], a) {
				advertised[e.Node] = append(advertised[e.Node], a)
			}
		}
	}
	for _, a := range advertised {
		slices.Sort(a) // the pods' order is the cache's
	}
	var out []*config.Cluster
	for _, n := range nodes {
		if _, ok := n.Labels[clusterview.ControlPlaneLabel]; !ok {
			continue
		}
		var addrs []string
		if ips := clusterview.InternalIPs(n); len(ips) > 0 {
			ip := ips[0]
			if i := slices.IndexFunc(ips, func(s string) bool { return net.ParseIP(s).To4() != nil }); i >= 0 {
				ip = ips[i]
			}
			addrs = append(addrs, net.ParseIP(ip).String())
		}
		for _, a := range advertised[n.Name] {
			if !slices.Contains(addrs, a) {
				addrs = append(addrs, a)
			}
		}
		if len(addrs) == 0 {
			notes = append(notes, fmt.Sprintf("control-plane Node %s has no InternalIP address: its certificates are not issued until it has one", n.Name))
			continue
		}
		for _, ip := range addrs {
			c := base
			c.NodeName, c.AdvertiseAddress = n.Name, ip
			if err := c.Validate(); err != nil {
				notes = append(notes, fmt.Sprintf("control-plane Node %s (%s): %v: its certificates are not issued", n.Name, ip, err))
				continue
			}
			out = append(out, &c)
		}
	}
	// Stable: a node's InternalIP stays first, as nodeList prints it.
	slices.SortStableFunc(out, func(a, b *config.Cluster) int { return strings.Compare(a.NodeName, b.NodeName) })
	return out, notes, nil
}

// nodeList names the nodes of clusters (ControlPlaneNodesAndPods' order),
// "cp-1=10.0.0.1,cp-2=10.0.0.2+10.1.0.2": a node's InternalIP, then, after
// a +, the other addresses its mirror pods advertise.
func nodeList(clusters []*config.Cluster) []string {
	var names []string
	for i, c := range clusters {
		if i > 0 && clusters[i-1].NodeName == c.NodeName {
			names[len(names)-1] += "+" + c.AdvertiseAddress
			continue
		}
		names = append(names, c.NodeName+"="+c.AdvertiseAddress)
	}
	return names
}

// LearnNodes reads the control-plane Nodes, the kube-apiserver and etcd
// mirror pods of kube-system and the kubeadm-config ConfigMap once (for
// `certctl approve`) and derives the nodes' configurations as
// ControlPlaneNodesAndPods does. Pods that cannot be listed are a note:
// the nodes are then at their InternalIP only.
func LearnNodes(ctx context.Context, client kubernetes.Interface, base config.Cluster, fromConfigMap bool) ([]*config.Cluster, []string, error) {
	list, err := client.CoreV1().Nodes().List(ctx, metav1.ListOptions{LabelSelector: clusterview.ControlPlaneLabel})
	if err != nil {
		return nil, nil, fmt.Errorf("list the control-plane Nodes (label %s): %w: grant list on nodes, or pass --control-plane-node NAME=IP for each", clusterview.ControlPlaneLabel, err)
	}
	nodes := make([]*corev1.Node, len(list.Items))
	for i := range list.Items {
		nodes[i] = &list.Items[i]
	}
	var notes []string
	var pods []*corev1.Pod
	podList, err := client.CoreV1().Pods(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{LabelSelector: clusterview.MirrorPodSelector})
	if err != nil {
		notes = append(notes, podsUnlisted(err))
	} else {
		for i := range podList.Items {
			pods = append(pods, &podList.Items[i])
		}
	}
	var cm *corev1.ConfigMap
	if fromConfigMap {
		cm, err = client.CoreV1().ConfigMaps(metav1.NamespaceSystem).Get(ctx, config.ConfigMapName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			cm, err = nil, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read kube-system/%s: %w: grant get on it, or pass --config", config.ConfigMapName, err)
		}
	}
	clusters, more, err := ControlPlaneNodesAndPods(nodes, pods, cm, base, fromConfigMap)
	return clusters, append(notes, more...), err
}

// podsUnlisted says what follows from mirror pods that cannot be listed.
func podsUnlisted(err error) string {
	return fmt.Sprintf("list the kube-apiserver and etcd pods in kube-system (label %s): %v: each control-plane node is accepted at its Node's InternalIP only, not at an advertise address of another interface; grant get, list and watch on pods in kube-system", clusterview.MirrorPodSelector, err)
}

// NodeWatcher follows the cluster's control-plane nodes with informers on
// the Nodes (with the control-plane label), kubeadm's mirror pods in
// kube-system (their advertise addresses) and the kubeadm-config
// ConfigMap, and rebuilds the policy whenever they change, so that adding
// a control-plane node needs no change to the signer's flags.
type NodeWatcher struct {
	client   kubernetes.Interface
	handler  cache.ResourceEventHandler
	rules    NodeRules
	base     config.Cluster
	fallback *Policy
	log      *slog.Logger
	current  atomic.Pointer[Policy]
	starters []informers.SharedInformerFactory
	synced   []cache.InformerSynced
	nodes    corelisters.NodeLister
	cms      corelisters.ConfigMapNamespaceLister // nil without r.FromConfigMap
	pods     corelisters.PodNamespaceLister       // nil while pods may not be listed
	mu       sync.Mutex
	last     string          // what the current policy was built from
	noted    map[string]bool // the notes logged, while they stay true
	names    string          // its nodes, "cp-1=10.0.0.1,..."
}

// NewNodeWatcher sets up the informers; Start starts them. The nodes'
// configurations start from base, with the kubeadm-config ConfigMap
// applied over it when r.FromConfigMap; r.Build makes their policy.
// fallback (required) is the policy while the cluster lists no
// control-plane node (this node's, from the flags). log receives a line
// each time the nodes change; nothing when nil.
func NewNodeWatcher(client kubernetes.Interface, r NodeRules, base config.Cluster, fallback *Policy, log *slog.Logger) (*NodeWatcher, error) {
	if client == nil || fallback == nil {
		return nil, fmt.Errorf("signer: the node watcher needs a client and a fallback policy")
	}
	log = cmp.Or(log, slog.New(slog.DiscardHandler))
	w := &NodeWatcher{client: client, rules: r, base: base, fallback: fallback, log: log}
	w.current.Store(fallback)
	nodeFactory := informers.NewSharedInformerFactoryWithOptions(client, 10*time.Minute,
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) { lo.LabelSelector = clusterview.ControlPlaneLabel }))
	nodes := nodeFactory.Core().V1().Nodes()
	w.nodes = nodes.Lister()
	w.starters = []informers.SharedInformerFactory{nodeFactory}
	w.synced = []cache.InformerSynced{nodes.Informer().HasSynced}
	handler := cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { w.refresh() },
		UpdateFunc: func(_, _ any) { w.refresh() },
		DeleteFunc: func(any) { w.refresh() },
	}
	w.handler = handler
	if _, err := nodes.Informer().AddEventHandler(handler); err != nil {
		return nil, fmt.Errorf("signer: watch Nodes: %w", err)
	}
	if r.FromConfigMap {
		cmFactory := informers.NewSharedInformerFactoryWithOptions(client, 10*time.Minute, informers.WithNamespace(metav1.NamespaceSystem),
			informers.WithTweakListOptions(func(lo *metav1.ListOptions) {
				lo.FieldSelector = fields.OneTermEqualSelector("metadata.name", config.ConfigMapName).String()
			}))
		cms := cmFactory.Core().V1().ConfigMaps()
		w.cms = cms.Lister().ConfigMaps(metav1.NamespaceSystem)
		if _, err := cms.Informer().AddEventHandler(handler); err != nil {
			return nil, fmt.Errorf("signer: watch ConfigMap kube-system/%s: %w", config.ConfigMapName, err)
		}
		w.starters = append(w.starters, cmFactory)
		w.synced = append(w.synced, cms.Informer().HasSynced)
	}
	return w, nil
}

// Start starts the informers. It first asks whether the mirror pods of
// kube-system may be listed (one List, up to 10 seconds): an informer
// refused its list would never sync. When the API server refuses it, the
// nodes are at their InternalIP only, and the log says so once.
func (w *NodeWatcher) Start(ctx context.Context) {
	w.watchPods(ctx)
	for _, f := range w.starters {
		f.Start(ctx.Done())
	}
}

// watchPods adds the informer on kube-system's mirror pods, unless the
// API server refuses to list them. Another failure (a timeout) is left to
// the informer, which retries as the others do. The List returns at its
// bound even while an exec credential plugin hangs (bounded.Call).
func (w *NodeWatcher) watchPods(ctx context.Context) {
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err := bounded.Call(lctx, func(ctx context.Context) (*corev1.PodList, error) {
		return w.client.CoreV1().Pods(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{LabelSelector: clusterview.MirrorPodSelector, Limit: 1})
	})
	if apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err) {
		w.log.Warn("control-plane nodes: " + podsUnlisted(err))
		return
	}
	f := informers.NewSharedInformerFactoryWithOptions(w.client, 10*time.Minute, informers.WithNamespace(metav1.NamespaceSystem),
		informers.WithTweakListOptions(func(lo *metav1.ListOptions) { lo.LabelSelector = clusterview.MirrorPodSelector }))
	pods := f.Core().V1().Pods()
	if _, err := pods.Informer().AddEventHandler(w.handler); err != nil {
		w.log.Warn("control-plane nodes: watch the pods of kube-system: each node is accepted at its Node's InternalIP only", "err", err)
		return
	}
	w.pods = pods.Lister().Pods(metav1.NamespaceSystem)
	w.starters = append(w.starters, f)
	w.synced = append(w.synced, pods.Informer().HasSynced)
}

// WaitForSync waits until the informers have listed what they watch and
// the policy was built from it.
func (w *NodeWatcher) WaitForSync(ctx context.Context) error {
	if !cache.WaitForCacheSync(ctx.Done(), w.synced...) {
		return fmt.Errorf("signer: list the control-plane Nodes, the pods of kube-system and kube-system/%s: %w", config.ConfigMapName, context.Cause(ctx))
	}
	w.refresh()
	return nil
}

// Current is the policy of the control-plane nodes last seen.
func (w *NodeWatcher) Current() *Policy { return w.current.Load() }

// Nodes names the nodes of the current policy, "cp-1=10.0.0.1,...", with
// "+10.1.0.1" for each other address a node's mirror pods advertise; ""
// while it is the fallback.
func (w *NodeWatcher) Nodes() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.names
}

// refresh rebuilds the policy from the informers' caches. A configuration
// that cannot be used keeps the last good policy, with a warning.
func (w *NodeWatcher) refresh() {
	w.mu.Lock()
	defer w.mu.Unlock()
	nodes, _ := w.nodes.List(labels.Everything()) // a cache's List never fails
	var cm *corev1.ConfigMap
	if w.cms != nil {
		cm, _ = w.cms.Get(config.ConfigMapName) // nil, NotFound while there is none
	}
	var pods []*corev1.Pod
	if w.pods != nil {
		pods, _ = w.pods.List(labels.Everything())
	}
	clusters, notes, err := ControlPlaneNodesAndPods(nodes, pods, cm, w.base, w.rules.FromConfigMap)
	// A note is logged when it is new, not at each of the informers'
	// events (a pod's status, a Node's heartbeat) while it stays true.
	seen := map[string]bool{}
	for _, n := range notes {
		if !w.noted[n] {
			w.log.Warn("control-plane nodes", "note", n)
		}
		seen[n] = true
	}
	w.noted = seen
	if err != nil {
		w.log.Warn("control-plane nodes: keeping the last policy", "err", err)
		return
	}
	names := nodeList(clusters)
	list := strings.Join(names, ",")
	desc := list
	if cm != nil {
		desc += " " + cm.ResourceVersion // a changed ConfigMap rebuilds too
	}
	if desc == w.last {
		return
	}
	p := w.fallback
	if len(clusters) > 0 {
		if p, err = w.rules.Build(clusters); err != nil {
			w.log.Warn("control-plane nodes: keeping the last policy", "nodes", names, "err", err)
			return
		}
	}
	w.current.Store(p)
	w.last, w.names = desc, ""
	if len(clusters) == 0 {
		w.log.Warn("the cluster lists no control-plane Node with an InternalIP: issuing this node's certificates only (--node-name, --apiserver-advertise-address)")
		return
	}
	w.names = list
	w.log.Info("control-plane nodes", "nodes", names)
}
