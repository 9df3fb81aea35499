package clusterview

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// TestNodeWithoutAddress: a control-plane Node with no InternalIP (an
// external cloud provider that has not set its addresses yet) and no
// mirror pod naming its endpoints: nothing of it can be checked. A
// warning names it and says where to look, instead of a row of dashes
// that the exit status 0 calls well.
func TestNodeWithoutAddress(t *testing.T) {
	f := newFixture(t)
	bare := cpNode("cp-2", "127.0.0.2")
	bare.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "cp-2"}}
	o := Options{Client: fake.NewClientset(cpNode("cp-1", "127.0.0.1"), bare,
		mirrorPod("kube-apiserver", "cp-1", APIServerEndpointAnnotation, f.apiserver),
		mirrorPod("etcd", "cp-1", EtcdClientURLsAnnotation, "https://"+f.etcd)), CertDir: f.node.CertDir(), Now: now}
	info, err := Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	warnings := strings.Join(info.Warnings, "\n")
	if !strings.Contains(warnings, "cp-2 has no endpoint to check") || !strings.Contains(warnings, "kubectl get node cp-2 -o wide") {
		t.Errorf("warnings do not say that nothing of cp-2 is checked:\n%s", warnings)
	}
}
