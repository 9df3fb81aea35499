package clusterview

import (
	"context"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"
)

// TestStaleMirrorPod: a kube-apiserver pod of cp-1 whose controller is a
// Node cp-1 of another UID than the Node cp-1 listed (left from a Node
// deleted and made again, or forged with its name) names no endpoint of
// cp-1: its annotation is ignored, with a warning that says why. Before,
// cp-1's kube-apiserver was checked at the address that pod named.
func TestStaleMirrorPod(t *testing.T) {
	f := newFixture(t)
	named := closedPort(t)
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
