package config

import (
	"crypto/x509"
	"net"
	"reflect"
	"testing"

	"github.com/certctl/certctl/pki"
)

func testCluster() Cluster {
	c := Default()
	c.NodeName = "cp-1"
	c.AdvertiseAddress = "198.51.100.10"
	return c
}

func certificates(t *testing.T, c *Cluster) []pki.Profile {
	t.Helper()
	n, err := c.Node()
	if err != nil {
		t.Fatal(err)
	}
	return pki.Kubeadm().Certificates(n)
}

func ips(s ...string) []net.IP {
	var out []net.IP
	for _, v := range s {
		ip := net.ParseIP(v)
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		out = append(out, ip)
	}
	return out
}

// TestCertificates pins every profile to kubeadm v1.37's certlist.go.
func TestCertificates(t *testing.T) {
	c := testCluster()
	c.ControlPlaneEndpoint = "cp.example.com:6443"
	c.APIServerCertSANs = []string{"10.0.0.1", "api.example.com", "kubernetes", "198.51.100.10"}
	c.EtcdServerCertSANs = []string{"etcd.example.com", "192.0.2.7"}
	c.EtcdPeerCertSANs = []string{"peer.example.com"}
	list := certificates(t, &c)
	client := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	want := []pki.Profile{
		{Name: "ca", BaseName: "ca", CommonName: "kubernetes", IsCA: true},
		{Name: "apiserver", BaseName: "apiserver", CAName: "ca", CommonName: "kube-apiserver",
			DNSNames: []string{"api.example.com", "cp-1", "cp.example.com", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
			IPs:      ips("10.96.0.1", "198.51.100.10", "10.0.0.1"), ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
		{Name: "apiserver-kubelet-client", BaseName: "apiserver-kubelet-client", CAName: "ca", CommonName: "kube-apiserver-kubelet-client", ExtKeyUsages: client},
		{Name: "front-proxy-ca", BaseName: "front-proxy-ca", CommonName: "front-proxy-ca", IsCA: true},
		{Name: "front-proxy-client", BaseName: "front-proxy-client", CAName: "front-proxy-ca", CommonName: "front-proxy-client", ExtKeyUsages: client},
		{Name: "etcd-ca", BaseName: "etcd/ca", CommonName: "etcd-ca", IsCA: true},
		{Name: "etcd-server", BaseName: "etcd/server", CAName: "etcd-ca", CommonName: "cp-1",
			DNSNames: []string{"cp-1", "etcd.example.com", "localhost"}, IPs: ips("198.51.100.10", "127.0.0.1", "::1", "192.0.2.7"), ExtKeyUsages: both},
		{Name: "etcd-peer", BaseName: "etcd/peer", CAName: "etcd-ca", CommonName: "cp-1",
			DNSNames: []string{"cp-1", "localhost", "peer.example.com"}, IPs: ips("198.51.100.10", "127.0.0.1", "::1"), ExtKeyUsages: both},
		{Name: "etcd-healthcheck-client", BaseName: "etcd/healthcheck-client", CAName: "etcd-ca", CommonName: "kube-etcd-healthcheck-client", ExtKeyUsages: client},
		{Name: "apiserver-etcd-client", BaseName: "apiserver-etcd-client", CAName: "etcd-ca", CommonName: "kube-apiserver-etcd-client", ExtKeyUsages: client},
	}
	if len(list) != len(want) {
		t.Fatalf("got %d profiles, want %d", len(list), len(want))
	}
	for i, w := range want {
		t.Run(w.Name, func(t *testing.T) {
			g := list[i]
			g.LongName = ""
			if !reflect.DeepEqual(g, w) {
				t.Errorf("profile\n got  %+v\n want %+v", g, w)
			}
		})
	}
}

func TestCertificatesExternalEtcd(t *testing.T) {
	c := testCluster()
	c.ExternalEtcd = true
	list := certificates(t, &c)
	if len(list) != 5 {
		t.Errorf("got %d profiles, want the 5 without etcd", len(list))
	}
	if _, ok := pki.Find(list, "etcd-ca"); ok {
		t.Error("etcd-ca listed with an external etcd")
	}
}

func TestAPIServerSANs(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(*Cluster)
		wantDNS  []string
		wantIPs  []net.IP
		wantFail bool
	}{
		{name: "defaults", mutate: func(*Cluster) {},
			wantDNS: []string{"cp-1", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
			wantIPs: ips("10.96.0.1", "198.51.100.10")},
		{name: "endpoint IP and custom domain", mutate: func(c *Cluster) {
			c.ControlPlaneEndpoint = "203.0.113.5"
			c.DNSDomain = "corp.local"
			c.ServiceSubnet = "10.100.0.0/16,fd00::/108"
		},
			wantDNS: []string{"cp-1", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.corp.local"},
			wantIPs: ips("10.100.0.1", "198.51.100.10", "203.0.113.5")},
		{name: "IPv6 service subnet and advertise address", mutate: func(c *Cluster) {
			c.ServiceSubnet = "fd00:10:96::/112"
			c.AdvertiseAddress = "2001:db8::10"
			c.ControlPlaneEndpoint = "[2001:db8::1]:6443"
		},
			wantDNS: []string{"cp-1", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"},
			wantIPs: ips("fd00:10:96::1", "2001:db8::10", "2001:db8::1")},
		{name: "bad service subnet", mutate: func(c *Cluster) { c.ServiceSubnet = "10.96.0.0/33" }, wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testCluster()
			tt.mutate(&c)
			n, err := c.Node()
			if tt.wantFail {
				if err == nil {
					t.Fatal("want error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			api, _ := pki.Kubeadm().Find("apiserver")
			p := n.Profile(api)
			dns, gotIPs := p.DNSNames, p.IPs
			if !reflect.DeepEqual(dns, tt.wantDNS) {
				t.Errorf("DNS = %v, want %v", dns, tt.wantDNS)
			}
			if !reflect.DeepEqual(gotIPs, tt.wantIPs) {
				t.Errorf("IPs = %v, want %v", gotIPs, tt.wantIPs)
			}
		})
	}
}

func TestKubeconfigs(t *testing.T) {
	c := testCluster()
	c.ControlPlaneEndpoint = "cp.example.com"
	c.BindPort = 8443
	n, err := c.Node()
	if err != nil {
		t.Fatal(err)
	}
	got := pki.Kubeadm().Kubeconfigs(n)
	want := []struct{ base, cn, org, server string }{
		{"admin.conf", "kubernetes-admin", "kubeadm:cluster-admins", "https://cp.example.com:8443"},
		{"super-admin.conf", "kubernetes-super-admin", "system:masters", "https://cp.example.com:8443"},
		{"kubelet.conf", "system:node:cp-1", "system:nodes", "https://198.51.100.10:8443"},
		{"controller-manager.conf", "system:kube-controller-manager", "", "https://198.51.100.10:8443"},
		{"scheduler.conf", "system:kube-scheduler", "", "https://198.51.100.10:8443"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d kubeconfigs, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		org := ""
		if len(g.Organization) > 0 {
			org = g.Organization[0]
		}
		if g.BaseName != w.base || g.CommonName != w.cn || org != w.org || g.Server != w.server || g.CAName != "ca" {
			t.Errorf("kubeconfig %d = %s %s %q %s, want %+v", i, g.BaseName, g.CommonName, org, g.Server, w)
		}
	}
}
