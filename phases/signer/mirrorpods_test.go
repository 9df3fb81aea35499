package signer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/certctl/certctl/phases/clusterview"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// mirrorPod is kubeadm's mirror pod of comp on node, with its endpoint
// annotation set to value, as the kubelet of node makes it: the mirror
// annotation, the Node as controller.
func mirrorPod(comp, node, value string) *corev1.Pod {
	p := podOf(comp, node, value)
	p.Annotations[clusterview.MirrorPodAnnotation] = "0123abcd"
	yes := true
	p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node, UID: "uid-" + types.UID(node), Controller: &yes}}
	return p
}

// podOf is a pod of kube-system with kubeadm's labels for comp and its
// endpoint annotation set to value, bound to node, that is no mirror pod:
// one that whoever may create pods there can make.
func podOf(comp, node, value string) *corev1.Pod {
	ann := map[string]string{clusterview.APIServerEndpointAnnotation: value}
	if comp == "etcd" {
		ann = map[string]string{clusterview.EtcdClientURLsAnnotation: value}
	}
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: comp + "-" + node, Namespace: "kube-system", Annotations: ann,
		Labels: map[string]string{"component": comp, "tier": "control-plane"}}, Spec: corev1.PodSpec{NodeName: node}}
}

// twoNICs is a cluster whose node cp-1 reports InternalIP 192.0.2.10
// while kubeadm advertises kube-apiserver and etcd on 2001:db8::10 (another
// interface, IPv6), as its mirror pods say.
func twoNICs() []runtime.Object {
	return []runtime.Object{k8sNode("cp-1", true, "192.0.2.10"),
		mirrorPod("kube-apiserver", "cp-1", "[2001:db8::10]:6443"), mirrorPod("etcd", "cp-1", "https://[2001:db8::10]:2379"),
		// A worker's pod of that name adds nothing: it is no control-plane Node.
		mirrorPod("kube-apiserver", "worker-1", "198.51.100.99:6443")}
}

// checkAt checks cp-1's certificate called name, as kubeadm makes it for
// the advertise address ip, against p.
func checkAt(t *testing.T, p *Policy, signerName, name, ip string) error {
	t.Helper()
	prof, ok := pki.Find(certificates(t, node("cp-1", ip)), name)
	if !ok {
		t.Fatalf("no profile %q", name)
	}
	_, err := p.Check(signerName, csrFor(t, prof), usagesOf(prof))
	return err
}

func forbidPods(client *fake.Clientset) {
	client.PrependReactor("list", "pods", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "pods"}, "", errors.New(`User "signer" cannot list resource "pods" in the namespace "kube-system"`))
	})
}

// TestApproveLearnsAdvertiseAddress: approve's one-shot learning accepts
// cp-1's apiserver and etcd requests at the address its mirror pods
// advertise, as at its InternalIP, and nothing at an address in neither.
func TestApproveLearnsAdvertiseAddress(t *testing.T) {
	base := config.Default()
	base.NodeName, base.AdvertiseAddress = "local", "203.0.113.1"
	fixed := testPolicy(t, PolicyOptions{Nodes: []*config.Cluster{&base}})
	var warn bytes.Buffer
	p, err := NodeRules{}.Learn(t.Context(), fake.NewClientset(twoNICs()...), fixed, &base, &warn)
	if err != nil {
		t.Fatal(err)
	}
	if warn.Len() != 0 {
		t.Errorf("warnings: %s", warn.String())
	}
	for _, c := range []struct{ signer, name string }{{KubeAPIServerServing, "apiserver"}, {EtcdServer, "etcd-server"}, {EtcdPeer, "etcd-peer"}} {
		for _, ip := range []string{"2001:db8::10", "192.0.2.10"} {
			if err := checkAt(t, p, c.signer, c.name, ip); err != nil {
				t.Errorf("%s of cp-1 at %s: %v", c.name, ip, err)
			}
		}
		for _, ip := range []string{"198.51.100.99", "203.0.113.1"} {
			if err := checkAt(t, p, c.signer, c.name, ip); err == nil {
				t.Errorf("%s of cp-1 at %s (neither its InternalIP nor its advertise address) was accepted", c.name, ip)
			}
		}
	}
}

// TestApprovePodsForbidden: approve whose credentials may not list pods
// goes on with the Nodes' InternalIP, and says so.
func TestApprovePodsForbidden(t *testing.T) {
	base := config.Default()
	base.NodeName, base.AdvertiseAddress = "local", "203.0.113.1"
	fixed := testPolicy(t, PolicyOptions{Nodes: []*config.Cluster{&base}})
	client := fake.NewClientset(twoNICs()...)
	forbidPods(client)
	var warn bytes.Buffer
	p, err := NodeRules{}.Learn(t.Context(), client, fixed, &base, &warn)
	if err != nil {
		t.Fatal(err)
	}
	if w := warn.String(); strings.Count(w, "[warning]") != 1 || !strings.Contains(w, "forbidden") || !strings.Contains(w, "grant get, list and watch on pods in kube-system") {
		t.Errorf("warnings %q, want one that says pods are forbidden and what to grant", w)
	}
	if err := checkAt(t, p, KubeAPIServerServing, "apiserver", "192.0.2.10"); err != nil {
		t.Errorf("apiserver of cp-1 at its InternalIP: %v", err)
	}
	if err := checkAt(t, p, KubeAPIServerServing, "apiserver", "2001:db8::10"); err == nil {
		t.Errorf("apiserver of cp-1 at the pods' address was accepted, the pods unread")
	}
}

// syncWatcher starts a NodeWatcher on client and waits for its first list.
func syncWatcher(t *testing.T, ctx context.Context, client *fake.Clientset, log *slog.Logger) *NodeWatcher {
	t.Helper()
	base := config.Default()
	base.NodeName, base.AdvertiseAddress = "local", "203.0.113.1"
	w, err := NewNodeWatcher(client, NodeRules{}, base, testPolicy(t, PolicyOptions{Nodes: []*config.Cluster{&base}}), log)
	if err != nil {
		t.Fatal(err)
	}
	w.Start(ctx)
	if err := w.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	return w
}

// TestNodeWatcherAdvertiseAddress: signer run follows the mirror pods: a
// request at cp-1's advertise address is accepted, and after the pod moves
// to another address, that one.
func TestNodeWatcherAdvertiseAddress(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	client := fake.NewClientset(twoNICs()...)
	w := syncWatcher(t, ctx, client, nil)
	if got := w.Nodes(); got != "cp-1=192.0.2.10+2001:db8::10" {
		t.Errorf("nodes %q, want cp-1=192.0.2.10+2001:db8::10", got)
	}
	for _, ip := range []string{"2001:db8::10", "192.0.2.10"} {
		if err := checkAt(t, w.Current(), KubeAPIServerServing, "apiserver", ip); err != nil {
			t.Errorf("apiserver of cp-1 at %s: %v", ip, err)
		}
	}
	if err := checkAt(t, w.Current(), KubeAPIServerServing, "apiserver", "198.51.100.99"); err == nil {
		t.Errorf("apiserver of cp-1 at 198.51.100.99, in neither its Node nor its pods, was accepted")
	}

	moved := mirrorPod("kube-apiserver", "cp-1", "192.0.2.20:6443")
	if _, err := client.CoreV1().Pods("kube-system").Update(ctx, moved, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	for checkAt(t, w.Current(), KubeAPIServerServing, "apiserver", "192.0.2.20") != nil {
		if ctx.Err() != nil {
			t.Fatalf("the watcher did not follow the pod to 192.0.2.20: nodes %q", w.Nodes())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestNodeWatcherPodsForbidden: a signer that may not list pods does not
// hang at start (an informer refused its list never syncs): it follows the
// Nodes at their InternalIP, and its log says so once, however often the
// nodes change.
func TestNodeWatcherPodsForbidden(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	client := fake.NewClientset(twoNICs()...)
	forbidPods(client)
	var log lockedBuffer
	w := syncWatcher(t, ctx, client, slog.New(slog.NewTextHandler(&log, nil)))
	if got := w.Nodes(); got != "cp-1=192.0.2.10" {
		t.Errorf("nodes %q, want cp-1=192.0.2.10", got)
	}
	if err := checkAt(t, w.Current(), KubeAPIServerServing, "apiserver", "192.0.2.10"); err != nil {
		t.Errorf("apiserver of cp-1 at its InternalIP: %v", err)
	}
	if _, err := client.CoreV1().Nodes().Create(ctx, k8sNode("cp-2", true, "192.0.2.11"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for w.Nodes() != "cp-1=192.0.2.10,cp-2=192.0.2.11" {
		if ctx.Err() != nil {
			t.Fatalf("cp-2 not followed: nodes %q", w.Nodes())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := strings.Count(log.String(), "list the kube-apiserver and etcd pods"); n != 1 || !strings.Contains(log.String(), "InternalIP only") {
		t.Errorf("the log says %d times that the pods cannot be listed, want once, with the fallback:\n%s", n, log.String())
	}
}

// TestOnlyMirrorPodsAdvertise: a pod of kube-system with kubeadm's labels
// and endpoint annotations that is not the kubelet's mirror pod of the
// node it claims (made by whoever may create pods there, or by a workload
// controller) adds no address to that node, for approve (Learn) nor for
// signer run (NodeWatcher), and a note says so; cp-1's own mirror pod's
// address is still accepted. A mirror pod whose controller is a Node cp-1
// of another UID than the Node cp-1 listed is no mirror pod of cp-1.
func TestOnlyMirrorPodsAdvertise(t *testing.T) {
	yes := true
	owned := func(p *corev1.Pod, kind, name string) *corev1.Pod {
		p.OwnerReferences = []metav1.OwnerReference{{APIVersion: "v1", Kind: kind, Name: name, Controller: &yes}}
		if kind == "ReplicaSet" {
			p.OwnerReferences[0].APIVersion = "apps/v1"
		}
		return p
	}
	withMirror := func(p *corev1.Pod) *corev1.Pod {
		p.Annotations[clusterview.MirrorPodAnnotation] = "0123abcd"
		return p
	}
	stale := func(p *corev1.Pod) *corev1.Pod {
		p.OwnerReferences[0].UID = "uid-cp-1-before"
		return p
	}
	for _, tc := range []struct {
		name   string
		forged *corev1.Pod
		note   string
	}{
		{"no mirror annotation", podOf("kube-apiserver", "cp-1", "198.51.100.66:6443"), "no kubernetes.io/config.mirror annotation"},
		{"no mirror annotation, owned by the Node", owned(podOf("etcd", "cp-1", "https://198.51.100.66:2379"), "Node", "cp-1"), "no kubernetes.io/config.mirror annotation"},
		{"mirror annotation, no controller", withMirror(podOf("kube-apiserver", "cp-1", "198.51.100.66:6443")), "it has no controller"},
		{"mirror annotation, another node's", withMirror(owned(podOf("kube-apiserver", "cp-1", "198.51.100.66:6443"), "Node", "worker-1")), `its controller is v1 Node "worker-1"`},
		{"mirror annotation, a ReplicaSet's", withMirror(owned(podOf("etcd", "cp-1", "https://198.51.100.66:2379"), "ReplicaSet", "evil-6b7f")), `its controller is apps/v1 ReplicaSet "evil-6b7f"`},
		// Left from a Node cp-1 deleted and made again (or forged with its
		// name): the kubelet's pod, but of another Node than cp-1's now.
		{"mirror pod of an earlier Node cp-1", stale(mirrorPod("kube-apiserver", "cp-1", "198.51.100.66:6443")), `its controller is the Node of UID "uid-cp-1-before", not the Node cp-1 of UID "uid-cp-1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.forged.Name = "forged"
			objs := append(twoNICs(), tc.forged)
			base := config.Default()
			base.NodeName, base.AdvertiseAddress = "local", "203.0.113.1"
			fixed := testPolicy(t, PolicyOptions{Nodes: []*config.Cluster{&base}})
			var warn bytes.Buffer
			learned, err := NodeRules{}.Learn(t.Context(), fake.NewClientset(objs...), fixed, &base, &warn)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(warn.String(), "kube-system/forged") || !strings.Contains(warn.String(), tc.note) {
				t.Errorf("approve's warnings do not name the forged pod and why (%q):\n%s", tc.note, warn.String())
			}
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			w := syncWatcher(t, ctx, fake.NewClientset(objs...), nil)
			if got := w.Nodes(); got != "cp-1=192.0.2.10+2001:db8::10" {
				t.Errorf("signer run's nodes %q, want cp-1=192.0.2.10+2001:db8::10 (the mirror pods' address, not the forged pod's)", got)
			}
			for who, p := range map[string]*Policy{"approve": learned, "signer run": w.Current()} {
				if err := checkAt(t, p, KubeAPIServerServing, "apiserver", "198.51.100.66"); err == nil {
					t.Errorf("%s accepted cp-1's apiserver at 198.51.100.66, which only a pod that is no mirror pod of cp-1 advertises", who)
				}
				if err := checkAt(t, p, EtcdServer, "etcd-server", "2001:db8::10"); err != nil {
					t.Errorf("%s: etcd-server of cp-1 at its mirror pod's address: %v", who, err)
				}
			}
		})
	}
}

// TestNodeWatcherNotesOnce: signer run logs a note about the nodes (here a
// pod that is no mirror pod advertising an address for cp-1) once, not
// again at each later change of the Nodes while it stays true (8 times
// here before).
func TestNodeWatcherNotesOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	forged := podOf("kube-apiserver", "cp-1", "198.51.100.66:6443")
	forged.Name = "forged"
	client := fake.NewClientset(append(twoNICs(), forged)...)
	var log lockedBuffer
	w := syncWatcher(t, ctx, client, slog.New(slog.NewTextHandler(&log, nil)))
	for i, n := range []string{"cp-2", "cp-3"} {
		if _, err := client.CoreV1().Nodes().Create(ctx, k8sNode(n, true, fmt.Sprintf("192.0.2.%d", 11+i)), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for !strings.Contains(w.Nodes(), "cp-3=") {
		if ctx.Err() != nil {
			t.Fatalf("cp-3 not followed: nodes %q", w.Nodes())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := strings.Count(log.String(), "kube-system/forged"); n != 1 {
		t.Errorf("the note on the forged pod was logged %d times, want once:\n%s", n, log.String())
	}
}
