package signer

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

func TestForCertificateCoversInventory(t *testing.T) {
	n := node("cp-1", "198.51.100.10")
	for _, p := range certificates(t, n) {
		s, err := ForCertificate(p.Name)
		if p.IsCA {
			if err == nil {
				t.Errorf("ForCertificate(%q) = %q, want an error for a CA", p.Name, s)
			}
			continue
		}
		if err != nil {
			t.Errorf("ForCertificate(%q): %v", p.Name, err)
			continue
		}
		if CAFor(s) != p.CAName {
			t.Errorf("%s: signer %s signs with CA %q, the certificate's CA is %q", p.Name, s, CAFor(s), p.CAName)
		}
	}
	for _, k := range kubeconfigs(t, n) {
		for _, name := range []string{k.Name, k.BaseName} {
			s, err := ForCertificate(name)
			if err != nil || s != KubeAPIServerClient {
				t.Errorf("ForCertificate(%q) = %q, %v; want %s", name, s, err, KubeAPIServerClient)
			}
		}
	}
	for _, bad := range []string{"sa", "ca", "nope.conf"} {
		if _, err := ForCertificate(bad); err == nil {
			t.Errorf("ForCertificate(%q) succeeded", bad)
		}
	}
}

func TestPolicyCheck(t *testing.T) {
	p := testPolicy(t, PolicyOptions{})
	masters := testPolicy(t, PolicyOptions{AllowSystemMasters: true})
	apiserver := profile(t, "apiserver")
	edKey := func() ed25519.PrivateKey {
		_, k, _ := ed25519.GenerateKey(rand.Reader)
		return k
	}()
	bc, _ := asn1.Marshal(struct{ IsCA bool }{true})

	for _, tc := range []struct {
		name   string
		policy *Policy
		signer string
		req    *x509.CertificateRequest
		usages []certv1.KeyUsage
		want   string // reason, "" for a fit
		fits   string // profile name on a fit
	}{
		{"apiserver", p, KubeAPIServerServing, csrFor(t, apiserver), usagesOf(apiserver), "", "apiserver"},
		{"apiserver, fewer SANs", p, KubeAPIServerServing,
			csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"}, DNSNames: []string{"kubernetes"}}, nil),
			[]certv1.KeyUsage{certv1.UsageServerAuth}, "", "apiserver"},
		{"apiserver, foreign SAN", p, KubeAPIServerServing,
			csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"}, DNSNames: []string{"kubernetes", "evil.example.com"}}, nil),
			usagesOf(apiserver), policy.ReasonSANNotAllowed, ""},
		{"apiserver, foreign IP", p, KubeAPIServerServing,
			csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"}, IPAddresses: []net.IP{net.ParseIP("203.0.113.9")}}, nil),
			usagesOf(apiserver), policy.ReasonSANNotAllowed, ""},
		{"apiserver, URI SAN", p, KubeAPIServerServing,
			csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"}, URIs: []*url.URL{{Scheme: "spiffe", Host: "x"}}}, nil),
			usagesOf(apiserver), policy.ReasonSANNotAllowed, ""},
		{"apiserver, client auth", p, KubeAPIServerServing, csrFor(t, apiserver),
			[]certv1.KeyUsage{certv1.UsageServerAuth, certv1.UsageClientAuth}, policy.ReasonUsageNotAllowed, ""},
		{"apiserver, cert sign", p, KubeAPIServerServing, csrFor(t, apiserver),
			[]certv1.KeyUsage{certv1.UsageServerAuth, certv1.UsageCertSign}, policy.ReasonUsageNotAllowed, ""},
		{"apiserver, extra key usage", p, KubeAPIServerServing, csrFor(t, apiserver),
			[]certv1.KeyUsage{certv1.UsageServerAuth, certv1.UsageDataEncipherment}, policy.ReasonUsageNotAllowed, ""},
		{"apiserver, asks for CA", p, KubeAPIServerServing,
			csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"},
				ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: bc}}}, nil),
			usagesOf(apiserver), policy.ReasonCARequested, ""},
		{"apiserver, Ed25519", p, KubeAPIServerServing,
			csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"}}, edKey),
			usagesOf(apiserver), policy.ReasonKeyNotAllowed, ""},
		{"apiserver, with O", p, KubeAPIServerServing,
			csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver", Organization: []string{pki.MastersGroup}}}, nil),
			usagesOf(apiserver), policy.ReasonSubjectNotAllowed, ""},
		{"apiserver, with OU", p, KubeAPIServerServing,
			csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver", OrganizationalUnit: []string{"x"}}}, nil),
			usagesOf(apiserver), policy.ReasonSubjectNotAllowed, ""},
		{"apiserver on the etcd signer", p, EtcdServer, csrFor(t, apiserver), usagesOf(apiserver), policy.ReasonSubjectNotAllowed, ""},
		{"unknown signer", p, "example.com/x", csrFor(t, apiserver), usagesOf(apiserver), policy.ReasonUnknownSigner, ""},
		{"front-proxy-client", p, FrontProxyClient, csrFor(t, profile(t, "front-proxy-client")), usagesOf(profile(t, "front-proxy-client")), "", "front-proxy-client"},
		{"etcd-server", p, EtcdServer, csrFor(t, profile(t, "etcd-server")), usagesOf(profile(t, "etcd-server")), "", "etcd-server"},
		{"etcd-server, server auth only", p, EtcdServer, csrFor(t, profile(t, "etcd-server")), []certv1.KeyUsage{certv1.UsageServerAuth}, policy.ReasonUsageNotAllowed, ""},
		{"etcd-peer", p, EtcdPeer, csrFor(t, profile(t, "etcd-peer")), usagesOf(profile(t, "etcd-peer")), "", "etcd-peer"},
		{"apiserver-etcd-client", p, EtcdClient, csrFor(t, profile(t, "apiserver-etcd-client")), usagesOf(profile(t, "apiserver-etcd-client")), "", "apiserver-etcd-client"},
		{"etcd-healthcheck-client", p, EtcdClient, csrFor(t, profile(t, "etcd-healthcheck-client")), usagesOf(profile(t, "etcd-healthcheck-client")), "", "etcd-healthcheck-client"},
		{"etcd client with system:masters", masters, EtcdClient,
			csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver-etcd-client", Organization: []string{pki.MastersGroup}}}, nil),
			usagesOf(profile(t, "apiserver-etcd-client")), policy.ReasonSubjectNotAllowed, ""},
		{"apiserver-kubelet-client", p, KubeAPIServerClient, csrFor(t, profile(t, "apiserver-kubelet-client")), usagesOf(profile(t, "apiserver-kubelet-client")), "", "apiserver-kubelet-client"},
		{"super-admin refused", p, KubeAPIServerClient, csrFor(t, profile(t, "super-admin")), usagesOf(profile(t, "super-admin")), policy.ReasonSystemMastersRefused, ""},
		{"super-admin allowed", masters, KubeAPIServerClient, csrFor(t, profile(t, "super-admin")), usagesOf(profile(t, "super-admin")), "", "super-admin"},
		{"admin", p, KubeAPIServerClient, csrFor(t, profile(t, "admin")), usagesOf(profile(t, "admin")), "", "admin"},
		{"apiserver-kubelet-client, built-in signer", p, certv1.KubeAPIServerClientSignerName, csrFor(t, profile(t, "apiserver-kubelet-client")), usagesOf(profile(t, "apiserver-kubelet-client")), "", "apiserver-kubelet-client"},
		{"admin, built-in signer", p, certv1.KubeAPIServerClientSignerName, csrFor(t, profile(t, "admin")), usagesOf(profile(t, "admin")), "", "admin"},
		{"super-admin, built-in signer", masters, certv1.KubeAPIServerClientSignerName, csrFor(t, profile(t, "super-admin")), usagesOf(profile(t, "super-admin")), policy.ReasonSubjectNotAllowed, ""},
		{"kubelet, built-in kubelet signer", p, certv1.KubeAPIServerClientKubeletSignerName, csrFor(t, profile(t, "kubelet")), usagesOf(profile(t, "kubelet")), "", "kubelet"},
		{"kubelet-serving is no control-plane certificate", p, certv1.KubeletServingSignerName, csrFor(t, apiserver), usagesOf(apiserver), policy.ReasonUnknownSigner, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prof, err := tc.policy.Check(tc.signer, tc.req, tc.usages)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				if prof.Name != tc.fits {
					t.Errorf("fits %q, want %q", prof.Name, tc.fits)
				}
				return
			}
			var v *policy.Violation
			if !errors.As(err, &v) || v.Reason != tc.want {
				t.Fatalf("Check = %v, want a violation %s", err, tc.want)
			}
			if v.Message == "" {
				t.Error("violation without a message")
			}
		})
	}
}

func TestPolicyManyNodes(t *testing.T) {
	p := testPolicy(t, PolicyOptions{Nodes: []*config.Cluster{node("cp-1", "198.51.100.10"), node("cp-2", "198.51.100.11")}})
	n2 := node("cp-2", "198.51.100.11")
	api2, _ := pki.Find(certificates(t, n2), "apiserver")
	if _, err := p.Check(KubeAPIServerServing, csrFor(t, api2), usagesOf(api2)); err != nil {
		t.Errorf("node cp-2's apiserver CSR: %v", err)
	}
	// cp-1's name with cp-2's address fits neither node.
	mixed := csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"},
		DNSNames: []string{"cp-1"}, IPAddresses: []net.IP{net.ParseIP("198.51.100.11")}}, nil)
	_, err := p.Check(KubeAPIServerServing, mixed, usagesOf(api2))
	if err == nil || !strings.Contains(err.Error(), "2 \"apiserver\" profiles") {
		t.Errorf("mixed CSR: err = %v, want a SAN violation against both nodes", err)
	}
	if got := len(p.bySigner[FrontProxyClient]); got != 1 {
		t.Errorf("front-proxy-client profiles = %d, want 1 (the same on every node)", got)
	}
	if got := len(p.bySigner[EtcdServer]); got != 2 {
		t.Errorf("etcd-server profiles = %d, want 2 (one per node)", got)
	}
}

func TestRequester(t *testing.T) {
	p := testPolicy(t, PolicyOptions{})
	if err := p.Rules().Requester("kubernetes-admin", []string{pki.ClusterAdminsGroup}); err != nil {
		t.Error(err)
	}
	if err := p.Rules().Requester("kubernetes-super-admin", []string{pki.MastersGroup}); err != nil {
		t.Error(err)
	}
	var v *policy.Violation
	if err := p.Rules().Requester("system:node:cp-1", []string{pki.NodesGroup}); !errors.As(err, &v) || v.Reason != policy.ReasonRequesterNotAllowed {
		t.Errorf("node requester: err = %v", err)
	}
	custom := testPolicy(t, PolicyOptions{RequesterUsers: []string{"system:serviceaccount:kube-system:renewer"}})
	if err := custom.Rules().Requester("system:serviceaccount:kube-system:renewer", nil); err != nil {
		t.Error(err)
	}
	if err := custom.Rules().Requester("kubernetes-admin", []string{pki.ClusterAdminsGroup}); err == nil {
		t.Error("custom requester list still allows the default groups")
	}
}

// TestSANViolationMessage pins the message of a request with SANs its
// profile lacks: the foreign DNS, then IP SANs, in the request's order (an
// allowed IPv4 address in its 16-byte spelling is allowed), then the
// profile's SANs, "none" when it has none.
func TestSANViolationMessage(t *testing.T) {
	p := testPolicy(t, PolicyOptions{})
	api, fp := profile(t, "apiserver"), profile(t, "front-proxy-client")
	var allowed []string
	for _, d := range api.DNSNames {
		allowed = append(allowed, "DNS:"+d)
	}
	for _, ip := range api.IPs {
		allowed = append(allowed, "IP:"+ip.String())
	}
	for _, tc := range []struct {
		signer string
		req    *x509.CertificateRequest
		usages []certv1.KeyUsage
		want   string
	}{
		{KubeAPIServerServing, csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"},
			DNSNames: []string{"evil.example.com", "kubernetes", "evil2.example.com"}, IPAddresses: []net.IP{net.ParseIP("192.0.2.99"), net.ParseIP("198.51.100.10").To16()}}, nil),
			usagesOf(api), "SANs DNS:evil.example.com, DNS:evil2.example.com, IP:192.0.2.99 are not SANs of the apiserver certificate of node cp-1 (allowed: " +
				strings.Join(allowed, ", ") + "); if they belong, add them to apiServer.certSANs (--apiserver-cert-extra-sans)"},
		{FrontProxyClient, csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: fp.CommonName}, IPAddresses: []net.IP{net.ParseIP("192.0.2.99")}}, nil),
			usagesOf(fp), "SANs IP:192.0.2.99 are not SANs of the front-proxy-client certificate (allowed: none)"},
	} {
		_, err := p.Check(tc.signer, tc.req, tc.usages)
		var v *policy.Violation
		if !errors.As(err, &v) || v.Reason != policy.ReasonSANNotAllowed || v.Message != tc.want {
			t.Errorf("%s: %v\nwant %s", tc.signer, err, tc.want)
		}
	}
}

// TestCheckOneLine: a SAN of the request with a line break (an IA5String
// may hold one) is quoted in the violation, which approve prints and signer
// run writes into the Failed condition and its log: it cannot start a
// line of its own ("[approve] CSR x approved ...").
func TestCheckOneLine(t *testing.T) {
	p := testPolicy(t, PolicyOptions{})
	apiserver := profile(t, "apiserver")
	for _, tc := range []struct {
		name string
		req  *x509.CertificateRequest
		says string
	}{
		{"DNS", &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"}, DNSNames: []string{"x\n[approve] CSR csr-1 approved"}}, `DNS:"x\n[approve] CSR csr-1 approved"`},
		{"email", &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"}, EmailAddresses: []string{"a@b\r\n[approve] ok"}}, `email:"a@b\r\n[approve] ok"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Check(KubeAPIServerServing, csrWith(t, tc.req, nil), usagesOf(apiserver))
			if err == nil || strings.ContainsAny(err.Error(), "\r\n") || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("Check = %v, want one line saying %s", err, tc.says)
			}
		})
	}
}
