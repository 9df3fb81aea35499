package pki

import "net"

// testNode is a node with kubeadm's defaults, as phases/config makes it.
func testNode() Node {
	return Node{Name: "cp-1", AdvertiseAddress: net.IPv4(198, 51, 100, 10).To4(), ServiceVIP: net.IPv4(10, 96, 0, 1).To4(),
		DNSDomain: "cluster.local", ControlPlaneURL: "https://198.51.100.10:6443", LocalAPIURL: "https://198.51.100.10:6443"}
}
