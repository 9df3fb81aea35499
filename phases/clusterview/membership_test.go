package clusterview

import (
	"context"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/refused"
)

// TestMembershipDisagrees: the cluster's Nodes and etcd's members
// disagree. cp-9 is an etcd member with no Node (its node was deleted, its
// member left behind: it counts against etcd's quorum); cp-2 is a
// control-plane Node that is no etcd member (its etcd was removed, or is
// named otherwise), so none of its etcd endpoints is checked. Each is a
// warning that names the node and what to do. Before, cp-2's etcd was
// silently left out, and cp-9's rows only said "unreachable".
func TestMembershipDisagrees(t *testing.T) {
	f := newFixture(t)
	f.members = append(f.members, Member{Name: "cp-9", PeerURLs: []string{"https://" + refused.Addr(t)}, ClientURLs: []string{"https://" + refused.Addr(t)}})
	o := Options{Client: fake.NewClientset(cpNode("cp-1", "127.0.0.1"), cpNode("cp-2", "127.0.0.2"),
		mirrorPod("kube-apiserver", "cp-1", APIServerEndpointAnnotation, f.apiserver),
		mirrorPod("etcd", "cp-1", EtcdClientURLsAnnotation, "https://"+f.etcd)), CertDir: f.node.CertDir(), Now: now}
	info, err := Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	warnings := strings.Join(info.Warnings, "\n")
	for _, want := range []string{
		"etcd member cp-9 is no control-plane Node",
		"etcdctl member remove",
		"control-plane Node cp-2 is not in etcd's member list",
	} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings do not say %q:\n%s", want, warnings)
		}
	}
	if strings.Contains(warnings, "cp-1") {
		t.Errorf("cp-1, a Node and a member, is warned about:\n%s", warnings)
	}
}

// TestUnstartedMember: etcd lists a member that was added and never
// started (`etcdctl member add` for a node that never joined): it has no
// name (etcd's JSON gives its ID in decimal, etcdctl wants hex) and
// counts against etcd's quorum. A warning names its peer URL and
// how to remove it; before, it was skipped without a word.
func TestUnstartedMember(t *testing.T) {
	f := newFixture(t)
	f.members = append(f.members, Member{ID: "9372538179322589801", PeerURLs: []string{"https://127.0.0.7:2380"}})
	o := Options{Client: fake.NewClientset(cpNode("cp-1", "127.0.0.1"), mirrorPod("kube-apiserver", "cp-1", APIServerEndpointAnnotation, f.apiserver),
		mirrorPod("etcd", "cp-1", EtcdClientURLsAnnotation, "https://"+f.etcd)), CertDir: f.node.CertDir(), Now: now}
	info, err := Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if w := strings.Join(info.Warnings, "\n"); !strings.Contains(w, "https://127.0.0.7:2380") || !strings.Contains(w, "etcdctl member remove 8211f1d0f64f3269") {
		t.Errorf("warnings do not name the unstarted member and its removal:\n%s", w)
	}
}

// TestMembershipMirrorPods: nodes whose control-plane label was removed
// while their mirror pods are still there (TestMirrorPodOfUnlistedNode:
// a deleted Node's). cp-2 is still an etcd member: the warning said "its
// kube-apiserver is not checked" above a row that checked it at its
// mirror pod's address (and a problem, unreachable, for it). cp-3 is no
// etcd member either, known from its mirror pods alone: its rows were
// checked, and could fail the check, without a word of why a node that is
// no control-plane Node was in the view; the warning says its Node lacks
// the label, and what to do. The member's removal names its ID, not "ID".
func TestMembershipMirrorPods(t *testing.T) {
	f := newFixture(t)
	f.members = append(f.members, Member{ID: "9372538179322589801", Name: "cp-2", PeerURLs: []string{"https://" + refused.Addr(t)}, ClientURLs: []string{"https://" + refused.Addr(t)}})
	o := Options{Client: fake.NewClientset(cpNode("cp-1", "127.0.0.1"), unlabelledNode("cp-2", "127.0.0.2"), unlabelledNode("cp-3", "127.0.0.3"),
		mirrorPod("kube-apiserver", "cp-1", APIServerEndpointAnnotation, f.apiserver),
		mirrorPod("etcd", "cp-1", EtcdClientURLsAnnotation, "https://"+f.etcd),
		mirrorPod("kube-apiserver", "cp-2", APIServerEndpointAnnotation, refused.Addr(t)),
		mirrorPod("kube-apiserver", "cp-3", APIServerEndpointAnnotation, refused.Addr(t))), CertDir: f.node.CertDir(), Now: now}
	info, err := Check(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	warnings := strings.Join(info.Warnings, "\n")
	for _, want := range []string{
		"etcd member cp-2 is no control-plane Node: its kube-apiserver is checked at the address its mirror pod kube-apiserver-cp-2 names",
		"etcdctl member remove 8211f1d0f64f3269", // its ID, as etcdctl takes it
		"Node cp-3 runs control-plane static pods (mirror pod kube-system/kube-apiserver-cp-3) but has no label node-role.kubernetes.io/control-plane: its endpoints are checked at the addresses its mirror pods name; if it is a control-plane node, label it (kubectl label node cp-3 node-role.kubernetes.io/control-plane=)",
	} {
		if !strings.Contains(warnings, want) {
			t.Errorf("warnings do not say %q:\n%s", want, warnings)
		}
	}
	if strings.Contains(warnings, "cp-2 is no control-plane Node: its kube-apiserver is not checked") {
		t.Errorf("the warning says cp-2's kube-apiserver is not checked, and its row checks it:\n%s", warnings)
	}
}
