package signer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/phases/config"
)

func k8sNode(name string, controlPlane bool, ips ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, UID: "uid-" + types.UID(name), Labels: map[string]string{}}}
	if controlPlane {
		n.Labels["node-role.kubernetes.io/control-plane"] = ""
	}
	n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: name})
	for _, ip := range ips {
		n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip})
	}
	return n
}

func kubeadmConfigMap(body string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kubeadm-config", Namespace: "kube-system", ResourceVersion: "1"},
		Data: map[string]string{"ClusterConfiguration": "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n" + body}}
}

// apiserverIPs returns the IP SANs of the kube-apiserver serving
// certificates p issues, one string per node: "10.96.0.1,192.0.2.10".
func apiserverIPs(p *Policy) []string {
	var out []string
	for _, c := range p.bySigner[KubeAPIServerServing] {
		prof := c.profile
		var ips []string
		for _, ip := range prof.IPs {
			ips = append(ips, ip.String())
		}
		out = append(out, strings.Join(ips, ",")+" "+strings.Join(prof.DNSNames, ","))
	}
	slices.Sort(out)
	return out
}

func TestControlPlaneNodes(t *testing.T) {
	base := config.Default()
	base.NodeName, base.AdvertiseAddress = "local", "203.0.113.1"
	tests := []struct {
		name    string
		nodes   []*corev1.Node
		cm      *corev1.ConfigMap
		fromCM  bool
		want    string // NAME=IP,... sorted
		notes   string
		cpe     string
		wantErr string
	}{
		{name: "control-plane Nodes only, by name", nodes: []*corev1.Node{k8sNode("cp-2", true, "192.0.2.11"), k8sNode("worker", false, "192.0.2.50"), k8sNode("cp-1", true, "192.0.2.10")},
			want: "cp-1=192.0.2.10,cp-2=192.0.2.11"},
		{name: "IPv4 InternalIP before IPv6", nodes: []*corev1.Node{k8sNode("cp-1", true, "2001:db8::10", "192.0.2.10")}, want: "cp-1=192.0.2.10"},
		{name: "a Node without InternalIP is skipped, with a note", nodes: []*corev1.Node{k8sNode("cp-1", true), k8sNode("cp-2", true, "192.0.2.11")},
			want: "cp-2=192.0.2.11", notes: "control-plane Node cp-1 has no InternalIP address"},
		{name: "kubeadm-config applied", nodes: []*corev1.Node{k8sNode("cp-1", true, "192.0.2.10")}, fromCM: true,
			cm: kubeadmConfigMap("controlPlaneEndpoint: lb.example.com:6443\n"), want: "cp-1=192.0.2.10", cpe: "lb.example.com:6443"},
		{name: "kubeadm-config ignored with --config", nodes: []*corev1.Node{k8sNode("cp-1", true, "192.0.2.10")},
			cm: kubeadmConfigMap("controlPlaneEndpoint: lb.example.com:6443\n"), want: "cp-1=192.0.2.10"},
		{name: "bad kubeadm-config", nodes: []*corev1.Node{k8sNode("cp-1", true, "192.0.2.10")}, fromCM: true,
			cm: kubeadmConfigMap("networking:\n  serviceSubnet: nonsense\n"), wantErr: "ConfigMap kube-system/kubeadm-config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, notes, err := ControlPlaneNodes(tt.nodes, tt.cm, base, tt.fromCM)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, c := range got {
				names = append(names, c.NodeName+"="+c.AdvertiseAddress)
				if c.ControlPlaneEndpoint != tt.cpe {
					t.Errorf("%s: controlPlaneEndpoint %q, want %q", c.NodeName, c.ControlPlaneEndpoint, tt.cpe)
				}
			}
			if s := strings.Join(names, ","); s != tt.want {
				t.Errorf("nodes %s, want %s", s, tt.want)
			}
			if s := strings.Join(notes, "\n"); !strings.Contains(s, tt.notes) || (tt.notes == "") != (s == "") {
				t.Errorf("notes %q, want %q", s, tt.notes)
			}
		})
	}
}

// TestNodeWatcher: the policy follows the control-plane Nodes as they are
// added, changed and removed, and the kubeadm-config ConfigMap.
func TestNodeWatcher(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := fake.NewClientset(k8sNode("cp-1", true, "192.0.2.10"), kubeadmConfigMap(""))
	base := config.Default()
	base.NodeName, base.AdvertiseAddress = "local", "203.0.113.1"
	fallback := testPolicy(t, PolicyOptions{Nodes: []*config.Cluster{&base}})
	w, err := NewNodeWatcher(client, NodeRules{FromConfigMap: true}, base, fallback, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Start(ctx)
	if err := w.WaitForSync(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for !ok() {
			if ctx.Err() != nil {
				t.Fatalf("%s: still nodes %q, apiserver SANs %q", what, w.Nodes(), apiserverIPs(w.Current()))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	hasIP := func(ip string) bool {
		for _, s := range apiserverIPs(w.Current()) {
			if slices.Contains(strings.Split(strings.Fields(s)[0], ","), ip) {
				return true
			}
		}
		return false
	}
	waitFor("cp-1 from the first list", func() bool { return w.Nodes() == "cp-1=192.0.2.10" && hasIP("192.0.2.10") && !hasIP("203.0.113.1") })

	nodes := client.CoreV1().Nodes()
	if _, err := nodes.Create(ctx, k8sNode("cp-2", true, "192.0.2.11"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := nodes.Create(ctx, k8sNode("worker-1", false, "192.0.2.50"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("cp-2 added", func() bool { return w.Nodes() == "cp-1=192.0.2.10,cp-2=192.0.2.11" && hasIP("192.0.2.11") })
	if hasIP("192.0.2.50") {
		t.Errorf("a worker's address is in the policy")
	}

	moved := k8sNode("cp-2", true, "192.0.2.12")
	if _, err := nodes.Update(ctx, moved, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("cp-2 moved", func() bool { return hasIP("192.0.2.12") && !hasIP("192.0.2.11") })

	cm := kubeadmConfigMap("controlPlaneEndpoint: lb.example.com\n")
	cm.ResourceVersion = "2"
	if _, err := client.CoreV1().ConfigMaps("kube-system").Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor("controlPlaneEndpoint from kubeadm-config", func() bool {
		return strings.Contains(fmt.Sprint(apiserverIPs(w.Current())), "lb.example.com")
	})

	for _, n := range []string{"cp-1", "cp-2"} {
		if err := nodes.Delete(ctx, n, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor("no control-plane Node: the fallback", func() bool { return w.Nodes() == "" && w.Current() == fallback })
}
