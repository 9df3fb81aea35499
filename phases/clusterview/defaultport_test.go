package clusterview

import (
	"context"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"
)

// TestDefaultPortSaysItIsAGuess: no kube-apiserver mirror pod names the
// node's port (the kubelet has not posted it, or RBAC hides the pods), so
// kube-apiserver is tried at kubeadm's 6443. A cluster with another
// bindPort then reads "unreachable" on every node: the row must say that
// 6443 was a guess and where the real port comes from, not only "check
// that it runs".
func TestDefaultPortSaysItIsAGuess(t *testing.T) {
	f := newFixture(t)
	o := Options{Client: fake.NewClientset(cpNode("cp-1", "127.0.0.1"), cpNode("cp-3", "127.0.0.3"),
		mirrorPod("kube-apiserver", "cp-1", APIServerEndpointAnnotation, f.apiserver),
		mirrorPod("etcd", "cp-1", EtcdClientURLsAnnotation, "https://"+f.etcd)), CertDir: f.node.CertDir(), Now: now}
	info, err := Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range info.Nodes {
		for _, e := range n.Endpoints {
			if e.Component != APIServer {
				continue
			}
			guessed := strings.Contains(strings.Join(info.Problems(), "\n"), n.Name+" kube-apiserver: no TLS handshake with kube-apiserver at "+e.Address) &&
				strings.Contains(e.Problems[0].Message, "kubeadm's default port 6443") && strings.Contains(e.Problems[0].Message, "kube-apiserver-"+n.Name)
			if guessed != (n.Name == "cp-3") {
				t.Errorf("%s: problems %+v; want, for cp-3 only, one saying 6443 was kubeadm's default and naming its mirror pod", n.Name, e.Problems)
			}
		}
	}
}
