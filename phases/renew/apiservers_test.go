package renew

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/certctl/certctl/phases/clusterview"
)

// TestAPIServersFromMirrorPods: the other kube-apiservers are kubeadm's
// kube-apiserver mirror pods in kube-system, at their advertise-address
// endpoint annotation, but this node's own, those of other components and
// those without the annotation (nowhere to ask), and pods that are no
// kubelet's mirror pod. A list that fails is an
// error, which leaves the restart not gated.
func TestAPIServersFromMirrorPods(t *testing.T) {
	pod := func(name, node, component, endpoint string) *corev1.Pod {
		// As the kubelet of node makes it: the mirror annotation, the
		// Node as controller.
		yes := true
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-system",
			Annotations:     map[string]string{clusterview.MirrorPodAnnotation: "0123abcd"},
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node, Controller: &yes}},
			Labels:          map[string]string{"component": component, "tier": "control-plane"}}, Spec: corev1.PodSpec{NodeName: node}}
		if endpoint != "" {
			p.Annotations[clusterview.APIServerEndpointAnnotation] = endpoint
		}
		return p
	}
	// A pod with kubeadm's labels and annotation that no kubelet made
	// (clusterview.NotMirrorPod) is no kube-apiserver to wait for.
	forged := pod("kube-apiserver-cp-5", "cp-5", "kube-apiserver", "10.0.0.5:6443")
	delete(forged.Annotations, clusterview.MirrorPodAnnotation)
	cs := fake.NewClientset(
		pod("kube-apiserver-cp-1", "cp-1", "kube-apiserver", "10.0.0.1:6443"),
		pod("kube-apiserver-cp-2", "cp-2", "kube-apiserver", "10.0.0.2:6443"),
		pod("kube-apiserver-cp-3", "cp-3", "kube-apiserver", "[2001:db8::3]:6443"),
		pod("kube-apiserver-cp-4", "cp-4", "kube-apiserver", ""),
		pod("etcd-cp-2", "cp-2", "etcd", ""),
		forged,
	)
	peers, err := APIServers(Coordination{Client: cs, NodeName: "cp-1"}, time.Minute).Others(context.Background())
	if got, want := fmt.Sprint(peers), "[{cp-2 10.0.0.2:6443} {cp-3 [2001:db8::3]:6443}]"; err != nil || got != want {
		t.Errorf("peers %s, %v; want %s", got, err, want)
	}
	down := fake.NewClientset()
	down.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection refused")
	})
	if _, err := APIServers(Coordination{Client: down, NodeName: "cp-1"}, time.Minute).Others(context.Background()); err == nil || !strings.Contains(err.Error(), "list the kube-apiserver mirror pods in kube-system with the API client: connection refused") {
		t.Errorf("err %v; want the list's error", err)
	}
}
