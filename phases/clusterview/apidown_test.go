package clusterview

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/certctl/certctl/internal/exitcode"
)

// TestCheckAPIServerDown: the kubeconfig loads but its API server does not
// answer (stopped, or refused because the certificate it serves expired:
// the very case the report is for). The nodes come from etcd's member list,
// and each one's kube-apiserver is still checked at kubeadm's default port,
// as the warning says ("their ports are taken as kubeadm's defaults"): here
// nothing listens there, so the row says unreachable and the exit status is
// 3. Before, no kube-apiserver row at all and exit 0, as if all was well.
// kubeadm-certs, unread, is not reported as "none".
func TestCheckAPIServerDown(t *testing.T) {
	f := newFixture(t)
	cs := fake.NewClientset()
	cs.PrependReactor("*", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")
	})
	o := Options{Client: cs, CertDir: f.node.CertDir(), Now: now, EtcdEndpoints: []string{"https://" + f.etcd}}
	info, err := Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Nodes) != 1 {
		t.Fatalf("nodes %+v, want cp-1 from etcd's member list", info.Nodes)
	}
	var api *Endpoint
	for i, e := range info.Nodes[0].Endpoints {
		if e.Component == APIServer {
			api = &info.Nodes[0].Endpoints[i]
		}
	}
	if api == nil || api.Address != "127.0.0.1:6443" {
		t.Fatalf("endpoints %+v, want cp-1's kube-apiserver at kubeadm's default 127.0.0.1:6443", info.Nodes[0].Endpoints)
	}
	var out bytes.Buffer
	err = Report(context.Background(), o, "text", &out)
	if got := exitcode.Of(err); got != exitcode.Problems {
		t.Errorf("exit %d (%v), want %d: the kube-apiservers are not known to be well", got, err, exitcode.Problems)
	}
	if strings.Contains(out.String(), "kubeadm-certs: none") {
		t.Errorf("kubeadm-certs, which could not be read, is reported as none:\n%s", out.String())
	}
}

// TestCheckNoControlPlaneNode: the API server answers but lists no Node
// with the control-plane label (the kubelets not registered, the label
// removed): the etcd members are the nodes, each kube-apiserver is checked
// at kubeadm's default port, and a warning says why, instead of a report
// of etcd alone that exits 0.
func TestCheckNoControlPlaneNode(t *testing.T) {
	f := newFixture(t)
	o := Options{Client: fake.NewClientset(), CertDir: f.node.CertDir(), Now: now, EtcdEndpoints: []string{"https://" + f.etcd}}
	info, err := Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Nodes) != 1 || len(info.Nodes[0].Endpoints) != 3 || info.Nodes[0].Endpoints[0].Address != "127.0.0.1:6443" {
		t.Fatalf("nodes %+v, want cp-1 with its kube-apiserver at 127.0.0.1:6443 and its etcd endpoints", info.Nodes)
	}
	if !strings.Contains(strings.Join(info.Warnings, "\n"), "no Node") {
		t.Errorf("warnings %q do not say that no control-plane Node is listed", info.Warnings)
	}
}

// TestCheckWithoutAPIClient: no API client could be made (no admin.conf
// on this host, no $KUBECONFIG; or admin.conf's client certificate
// expired, which the client refuses up front: the very case the report is
// for). The nodes come from etcd's member list, as when the API server is
// down; before, no kube-apiserver was checked at all (exit 0 whatever they
// serve, though docs/ha.md says each is checked at kubeadm's port), and
// every healthy member was "no control-plane Node", with the advice to
// remove it from etcd.
func TestCheckWithoutAPIClient(t *testing.T) {
	f := newFixture(t)
	o := Options{ClientError: errors.New("no kubeconfig"), CertDir: f.node.CertDir(), Now: now, EtcdEndpoints: []string{"https://" + f.etcd}}
	info, err := Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Nodes) != 1 || len(info.Nodes[0].Endpoints) != 3 || info.Nodes[0].Endpoints[0].Address != "127.0.0.1:6443" {
		t.Fatalf("nodes %+v, want cp-1 with its kube-apiserver at 127.0.0.1:6443 and its etcd endpoints", info.Nodes)
	}
	warnings := strings.Join(info.Warnings, "\n")
	if strings.Contains(warnings, "member remove") || strings.Contains(warnings, "no control-plane Node") {
		t.Errorf("a member is said to be no control-plane Node, the Nodes unread:\n%s", warnings)
	}
	if !strings.Contains(warnings, "each kube-apiserver at kubeadm's port 6443") {
		t.Errorf("the warning does not say where the kube-apiservers are checked:\n%s", warnings)
	}
	var out bytes.Buffer
	if err := Report(context.Background(), o, "text", &out); exitcode.Of(err) != exitcode.Problems {
		t.Errorf("exit %d (%v), want %d: the kube-apiservers are not known to be well", exitcode.Of(err), err, exitcode.Problems)
	}
}

// TestDefaultPortHintWhenPodsUnread: the kube-apiserver pods, which name
// each node's port, could not be read: the API server is down (or hangs),
// or no API client could be made. Each kube-apiserver row, tried at
// kubeadm's 6443, advised "let this host read the kube-system pods", as if
// RBAC hid them; it now says the pods could not be read and points at the
// warning that says why. When the pods were listed (a forbidden list is
// the unread case) and none is the node's, the kubelet has not posted it:
// that is what the row says then.
func TestDefaultPortHintWhenPodsUnread(t *testing.T) {
	f := newFixture(t)
	down := fake.NewClientset()
	down.PrependReactor("*", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")
	})
	for name, o := range map[string]Options{
		"API server down": {Client: down},
		"no API client":   {ClientError: errors.New("no kubeconfig")},
	} {
		t.Run(name, func(t *testing.T) {
			o.CertDir, o.Now, o.EtcdEndpoints = f.node.CertDir(), now, []string{"https://" + f.etcd}
			info, err := Check(context.Background(), o)
			if err != nil {
				t.Fatal(err)
			}
			msg := info.Nodes[0].Endpoints[0].Problems[0].Message
			if !strings.Contains(msg, "kubeadm's default port 6443: the kube-apiserver pods, which name its port, could not be read (see WARNINGS)") ||
				strings.Contains(msg, "let this host read") {
				t.Errorf("the unreachable kube-apiserver does not say its pods were unread:\n%s", msg)
			}
		})
	}
	o := Options{Client: fake.NewClientset(cpNode("cp-1", "127.0.0.1")), CertDir: f.node.CertDir(), Now: now, EtcdEndpoints: []string{"https://" + f.etcd}}
	info, err := Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if msg := info.Nodes[0].Endpoints[0].Problems[0].Message; !strings.Contains(msg, "no mirror pod kube-apiserver-cp-1 names its port: with another bindPort, check that the node's kubelet runs") ||
		strings.Contains(msg, "let this host read") {
		t.Errorf("pods listed, none of cp-1: the row does not point at its kubelet:\n%s", msg)
	}
}
