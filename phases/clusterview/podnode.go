package clusterview

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/certctl/certctl/internal/bounded"
)

// nodeRead is a Node read by name for the mirror pods that name it.
type nodeRead struct {
	node *corev1.Node
	err  error
}

// podNode is the Node that mirror pod p names (spec.nodeName), for
// NotMirrorPod to compare its UID with the pod's controller's: a pod left
// from a Node deleted, or deleted and made again, is no mirror pod of the
// node of that name now. A control-plane Node listed is at hand; one that
// is not (its control-plane label removed, or deleted) is read, once per
// name. ok is false when p is to be skipped, its Node not existing (a
// warning names the pod and what to do). The Node is nil, with ok, when
// the Nodes could not be listed (which a warning says already) or the
// read failed (a warning says so): p is then taken without the comparison.
func (c *cluster) podNode(ctx context.Context, client kubernetes.Interface, p *corev1.Pod) (*corev1.Node, bool) {
	name := p.Spec.NodeName
	if n := c.listed[name]; n != nil || c.listed == nil || name == "" {
		return n, true
	}
	r, read := c.unlisted[name]
	if !read {
		r.node, r.err = bounded.Call(ctx, func(ctx context.Context) (*corev1.Node, error) {
			return client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		})
		if r.err != nil {
			r.node = nil // client-go gives an empty Node with the error
		}
		if r.err != nil && !apierrors.IsNotFound(r.err) {
			c.warn("read Node %s, which mirror pod %s/%s names and which is no control-plane Node: %v: its mirror pods are taken without comparing that Node's UID with their controller's", name, p.Namespace, p.Name, r.err)
		}
		if c.unlisted == nil {
			c.unlisted = map[string]nodeRead{}
		}
		c.unlisted[name] = r
	}
	if apierrors.IsNotFound(r.err) {
		c.warn("pod %s/%s is the mirror pod of Node %s, which does not exist: it is left from a deleted Node and its endpoint annotations are ignored; the pod garbage collector deletes it; if it stays, delete it (kubectl -n %s delete pod %s)", p.Namespace, p.Name, name, p.Namespace, p.Name)
		return nil, false
	}
	return r.node, true
}

// warnUnlabelled says, once per node, that Node name, whose kubelet runs
// control-plane static pods (p is the mirror pod of one), lacks the
// control-plane label: the view checks its endpoints all the same, at the
// addresses its mirror pods name.
func (c *cluster) warnUnlabelled(name string, p *corev1.Pod) {
	n := c.node(name)
	if n.unlabelled {
		return
	}
	n.unlabelled = true
	c.warn("Node %s runs control-plane static pods (mirror pod %s/%s) but has no label %s: its endpoints are checked at the addresses its mirror pods name; if it is a control-plane node, label it (kubectl label node %s %s=); if not, remove the static pod manifests from it", name, p.Namespace, p.Name, ControlPlaneLabel, name, ControlPlaneLabel)
}
