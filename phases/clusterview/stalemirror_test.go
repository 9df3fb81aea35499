package clusterview

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/certctl/certctl/internal/refused"
)

// TestStaleMirrorPod: a kube-apiserver pod of cp-1 whose controller is a
// Node cp-1 of another UID than the Node cp-1 listed (left from a Node
// deleted and made again, or forged with its name) names no endpoint of
// cp-1: its annotation is ignored, with a warning that says why. Before,
// cp-1's kube-apiserver was checked at the address that pod named.
func TestStaleMirrorPod(t *testing.T) {
	f := newFixture(t)
	named := refused.Addr(t)
	stale := mirrorPod("kube-apiserver", "cp-1", APIServerEndpointAnnotation, named)
	stale.OwnerReferences[0].UID = "uid-cp-1-before"
	o := Options{Client: fake.NewClientset(cpNode("cp-1", "127.0.0.1"), stale,
		mirrorPod("etcd", "cp-1", EtcdClientURLsAnnotation, "https://"+f.etcd)), CertDir: f.node.CertDir(), Now: now}
	info, err := Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	want := `pod kube-system/kube-apiserver-cp-1 is no mirror pod of node "cp-1": its controller is the Node of UID "uid-cp-1-before", not the Node cp-1 of UID "uid-cp-1"`
	if w := strings.Join(info.Warnings, "\n"); !strings.Contains(w, want) {
		t.Errorf("warnings do not say %q:\n%s", want, w)
	}
	for _, n := range info.Nodes {
		for _, e := range n.Endpoints {
			if e.Component == APIServer && e.Address == named {
				t.Errorf("%s's kube-apiserver was checked at %s, which only a pod of an earlier Node cp-1 names", n.Name, named)
			}
		}
	}
}

// unlabelledNode is cpNode without the control-plane label: a node whose
// label was removed, which the view does not list.
func unlabelledNode(name, ip string) *corev1.Node {
	n := cpNode(name, ip)
	delete(n.Labels, ControlPlaneLabel)
	return n
}

// TestMirrorPodOfUnlistedNode: mirror pods of cp-2, which is not among
// the control-plane Nodes listed. Their controller's UID was compared
// with that of a listed Node only: a pod of cp-2 was taken as current
// without a comparison, and its endpoints checked at the addresses it
// names, when cp-2 had been deleted (its pods not yet collected) or
// deleted and made again without the label. The Node is now read: a
// deleted Node's pods, or a pod whose controller is another Node of the
// name, name no endpoint, with a warning naming the pod, its Node and
// what to do; a Node that lost its label is checked
// (TestMembershipMirrorPods).
func TestMirrorPodOfUnlistedNode(t *testing.T) {
	for _, tc := range []struct {
		name  string
		nodes []runtime.Object
		want  []string
	}{{
		name: "Node deleted",
		want: []string{
			"pod kube-system/kube-apiserver-cp-2 is the mirror pod of Node cp-2, which does not exist: it is left from a deleted Node and its endpoint annotations are ignored; the pod garbage collector deletes it; if it stays, delete it (kubectl -n kube-system delete pod kube-apiserver-cp-2)",
			"pod kube-system/etcd-cp-2 is the mirror pod of Node cp-2, which does not exist",
		},
	}, {
		name:  "Node made again without the label",
		nodes: []runtime.Object{func() *corev1.Node { n := unlabelledNode("cp-2", "127.0.0.2"); n.UID = "uid-cp-2-after"; return n }()},
		want: []string{
			`pod kube-system/kube-apiserver-cp-2 is no mirror pod of node "cp-2": its controller is the Node of UID "uid-cp-2", not the Node cp-2 of UID "uid-cp-2-after"`,
			`pod kube-system/etcd-cp-2 is no mirror pod of node "cp-2"`,
		},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			named, etcdNamed := refused.Addr(t), refused.Addr(t)
			objs := append([]runtime.Object{cpNode("cp-1", "127.0.0.1"),
				mirrorPod("kube-apiserver", "cp-1", APIServerEndpointAnnotation, f.apiserver),
				mirrorPod("etcd", "cp-1", EtcdClientURLsAnnotation, "https://"+f.etcd),
				mirrorPod("kube-apiserver", "cp-2", APIServerEndpointAnnotation, named),
				mirrorPod("etcd", "cp-2", EtcdClientURLsAnnotation, "https://"+etcdNamed)}, tc.nodes...)
			info, err := Check(context.Background(), Options{Client: fake.NewClientset(objs...), CertDir: f.node.CertDir(), Now: now})
			if err != nil {
				t.Fatal(err)
			}
			w := strings.Join(info.Warnings, "\n")
			for _, want := range tc.want {
				if !strings.Contains(w, want) {
					t.Errorf("warnings do not say %q:\n%s", want, w)
				}
			}
			if strings.Contains(w, "mirror pod(s) of node cp-2") || strings.Contains(w, "Node cp-2 runs control-plane static pods") {
				t.Errorf("warnings take cp-2's pods as current:\n%s", w)
			}
			for _, n := range info.Nodes {
				if n.Name == "cp-2" {
					t.Errorf("cp-2 has a row, checked at the addresses only its stale pods name: %+v", n.Endpoints)
				}
			}
		})
	}
}

// TestMirrorPodNodeUnread: the Node a mirror pod names, not among the
// control-plane Nodes, cannot be read (here forbidden). The pod is taken
// without the comparison of UIDs, as before, and a warning says so.
func TestMirrorPodNodeUnread(t *testing.T) {
	f := newFixture(t)
	named := refused.Addr(t)
	client := fake.NewClientset(cpNode("cp-1", "127.0.0.1"),
		mirrorPod("kube-apiserver", "cp-1", APIServerEndpointAnnotation, f.apiserver),
		mirrorPod("etcd", "cp-1", EtcdClientURLsAnnotation, "https://"+f.etcd),
		mirrorPod("kube-apiserver", "cp-2", APIServerEndpointAnnotation, named))
	client.PrependReactor("get", "nodes", func(action k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(corev1.Resource("nodes"), action.(k8stesting.GetAction).GetName(), errors.New("no get"))
	})
	info, err := Check(context.Background(), Options{Client: client, CertDir: f.node.CertDir(), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	want := "read Node cp-2, which mirror pod kube-system/kube-apiserver-cp-2 names and which is no control-plane Node: "
	if w := strings.Join(info.Warnings, "\n"); !strings.Contains(w, want) || !strings.Contains(w, "without comparing that Node's UID") {
		t.Errorf("warnings do not say %q:\n%s", want, w)
	}
	checked := false
	for _, n := range info.Nodes {
		for _, e := range n.Endpoints {
			checked = checked || n.Name == "cp-2" && e.Address == named
		}
	}
	if !checked {
		t.Errorf("cp-2's kube-apiserver is not checked at %s, which its pod names: %+v\n%s", named, info.Nodes, info.Warnings)
	}
}
