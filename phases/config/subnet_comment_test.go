package config

import (
	"strings"
	"testing"
)

// TestSubnetCommentOtherFamily: an IP SAN of the other family is named as
// a possible dual-stack VIP only when it can be a range's first address
// (the one after the network's), with that range; a load balancer's
// address such as 2001:db8::10 is not.
func TestSubnetCommentOtherFamily(t *testing.T) {
	c := Default()
	c.APIServerCertSANs = []string{"fd00:10:96::1", "2001:db8::10", "192.0.2.7", "api.example.com"}
	got := subnetComment(c)
	if !strings.Contains(got, "fd00:10:96::1") || !strings.Contains(got, "serviceSubnet: 10.96.0.0/12,fd00:10:96::/108") {
		t.Errorf("fd00:10:96::1 not offered as a VIP:\n%s", got)
	}
	for _, not := range []string{"2001:db8::10", "192.0.2.7"} {
		if strings.Contains(got, not) {
			t.Errorf("%s offered as a VIP:\n%s", not, got)
		}
	}
	c.ServiceSubnet = "10.96.0.0/12,fd00:10:96::/108"
	if got := subnetComment(c); strings.Contains(got, "fd00:10:96::1") {
		t.Errorf("a dual-stack serviceSubnet is offered its own second range:\n%s", got)
	}
}
