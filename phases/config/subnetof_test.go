package config

import (
	"net"
	"testing"
)

// TestSubnetOf: the service subnet derived from a service VIP is a network
// address with its mask (as kubeadm and the API server read a CIDR), holds
// vip−1 and vip, and, when vip−1 is a network of kubeadm's minimum size (16
// addresses), has vip as its first address, the VIP kubeadm derives from it.
// A VIP one past an address with fewer than 4 trailing zero bits is the first
// address of no such subnet: it gets the smallest one that holds both (and
// stays an extra SAN of the apiserver certificate, extraSANs).
func TestSubnetOf(t *testing.T) {
	tests := []struct {
		vip, want string
		isVIP     bool // the subnet's first address is vip
	}{
		{"10.96.0.1", "10.96.0.0/12", true},
		{"10.96.0.10", "10.96.0.0/28", false},
		{"10.96.0.16", "10.96.0.0/27", false},
		{"172.20.0.1", "172.20.0.0/14", true},
		{"10.0.0.129", "10.0.0.128/25", true},
		{"10.0.0.17", "10.0.0.16/28", true},
		{"fd00::1", "fd00::/108", true},
		{"fd00:10:96::1", "fd00:10:96::/108", true},
		{"fd00::12", "fd00::10/124", false},
	}
	for _, tt := range tests {
		t.Run(tt.vip, func(t *testing.T) {
			vip := net.ParseIP(tt.vip)
			got := subnetOf(vip)
			ip, ipnet, err := net.ParseCIDR(got)
			if err != nil {
				t.Fatalf("subnetOf(%s) = %q: %v", tt.vip, got, err)
			}
			if !ip.Equal(ipnet.IP) {
				t.Errorf("subnetOf(%s) = %q: %s is not the network address %s", tt.vip, got, ip, ipnet.IP)
			}
			prev := prevIP(vip)
			if !ipnet.Contains(prev) || !ipnet.Contains(vip) {
				t.Errorf("subnetOf(%s) = %q does not hold %s and %s", tt.vip, got, prev, vip)
			}
			c := Cluster{ServiceSubnet: got}
			first, err := c.APIServerVirtualIP()
			if err != nil || first.Equal(vip) != tt.isVIP {
				t.Errorf("subnetOf(%s) = %q: its VIP is %v (%v), want it to be %s: %v", tt.vip, got, first, err, tt.vip, tt.isVIP)
			}
			if got != tt.want {
				t.Errorf("subnetOf(%s) = %q, want %q", tt.vip, got, tt.want)
			}
		})
	}
}

func prevIP(ip net.IP) net.IP {
	p := append(net.IP(nil), ip...)
	if v4 := p.To4(); v4 != nil {
		p = v4
	}
	for i := len(p) - 1; i >= 0; i-- {
		p[i]--
		if p[i] != 0xff {
			break
		}
	}
	return p
}
