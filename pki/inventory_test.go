package pki

import (
	"net"
	"testing"
)

// testNode is a node with kubeadm's defaults, as phases/config makes it.
func testNode() Node {
	return Node{Name: "cp-1", AdvertiseAddress: net.IPv4(198, 51, 100, 10).To4(), ServiceVIP: net.IPv4(10, 96, 0, 1).To4(),
		DNSDomain: "cluster.local", ControlPlaneURL: "https://198.51.100.10:6443", LocalAPIURL: "https://198.51.100.10:6443"}
}

// TestKubeadmInventory checks what every row must satisfy: unique names,
// each certificate's CA listed before it, a signer for what the
// certificates API can issue, and none for a CA or key pair.
func TestKubeadmInventory(t *testing.T) {
	seen := map[string]Entry{}
	for _, e := range Kubeadm() {
		if _, dup := seen[e.CertName()]; dup || e.Name == "" || e.BaseName == "" {
			t.Errorf("%q: duplicate or empty name", e.Name)
		}
		issued := e.Kind == KindLeaf || e.Kind == KindKubeconfig
		if ca, ok := seen[e.CAName]; issued && (!ok || ca.Kind != KindCA) {
			t.Errorf("%s: CA %q is not a CA listed before it", e.Name, e.CAName)
		}
		if issued != (e.Signer != "") || issued != (len(e.ExtKeyUsages) > 0) {
			t.Errorf("%s: kind %d with signer %q and usages %v", e.Name, e.Kind, e.Signer, e.ExtKeyUsages)
		}
		if !issued && e.NotRenewed == "" {
			t.Errorf("%s: a CA or key pair that renew would renew", e.Name)
		}
		seen[e.Name], seen[e.CertName()] = e, e
	}
}
