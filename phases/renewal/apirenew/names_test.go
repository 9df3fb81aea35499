package apirenew

import (
	"crypto/x509"
	"strings"
	"testing"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

func TestDefaultSignerName(t *testing.T) {
	want := map[string]string{
		"apiserver":                signer.KubeAPIServerServing,
		"apiserver-kubelet-client": certv1.KubeAPIServerClientSignerName,
		"front-proxy-client":       signer.FrontProxyClient,
		"apiserver-etcd-client":    signer.EtcdClient,
		"etcd-server":              signer.EtcdServer,
		"etcd-peer":                signer.EtcdPeer,
		"etcd-healthcheck-client":  signer.EtcdClient,
		"admin.conf":               certv1.KubeAPIServerClientSignerName,
		"controller-manager.conf":  certv1.KubeAPIServerClientSignerName,
		"scheduler.conf":           certv1.KubeAPIServerClientSignerName,
		// The API server refuses O=system:masters for the built-in name.
		"super-admin.conf": signer.KubeAPIServerClient,
	}
	// Every renewable certificate has one.
	for _, n := range renewal.Names()[1:] {
		got, err := DefaultSignerName(renewal.TargetOf(pki.Kubeadm(), n))
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if got != want[n] {
			t.Errorf("%s: signer %q, want %q", n, got, want[n])
		}
	}
}

func TestSignerNames(t *testing.T) {
	targets := []renewal.Target{{Name: "apiserver"}, {Name: "admin.conf"}}
	got, err := SignerNames(targets, map[string]string{"apiserver": "example.com/serving", "etcd-peer": "example.com/peer"})
	if err != nil {
		t.Fatal(err)
	}
	if got["apiserver"] != "example.com/serving" || got["admin.conf"] != certv1.KubeAPIServerClientSignerName || len(got) != 2 {
		t.Errorf("SignerNames = %v", got)
	}
	for _, tc := range []struct {
		name      string
		overrides map[string]string
		want      string
	}{
		{"unknown certificate", map[string]string{"ca": "example.com/x"}, `"ca": not a certificate certctl renews`},
		{"no slash", map[string]string{"apiserver": "serving"}, "want DOMAIN/PATH"},
		{"bad domain", map[string]string{"apiserver": "Example_com/serving"}, "its domain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := SignerNames(targets, tc.overrides); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

func TestCheckSigner(t *testing.T) {
	client := pki.Profile{CommonName: "kubernetes-admin", Organization: []string{pki.ClusterAdminsGroup}, ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	masters := pki.Profile{CommonName: "kubernetes-super-admin", Organization: []string{pki.MastersGroup}, ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	serving := pki.Profile{CommonName: "kube-apiserver", ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	req := func(name string, p pki.Profile) renewal.Request {
		return renewal.Request{Target: renewal.Target{Name: name}, Profile: p}
	}
	for _, tc := range []struct {
		name   string
		req    renewal.Request
		signer string
		want   string // "" for no error
	}{
		{"admin.conf, built-in", req("admin.conf", client), certv1.KubeAPIServerClientSignerName, ""},
		{"super-admin.conf, certctl's", req("super-admin.conf", masters), signer.KubeAPIServerClient, ""},
		{"super-admin.conf, built-in", req("super-admin.conf", masters), certv1.KubeAPIServerClientSignerName, "O=system:masters, which the API server refuses"},
		{"apiserver, built-in client", req("apiserver", serving), certv1.KubeAPIServerClientSignerName, "issues only client certificates"},
		{"apiserver, kubelet-serving", req("apiserver", serving), certv1.KubeletServingSignerName, "cannot issue apiserver"},
		{"apiserver, another CA's", req("apiserver", serving), "example.com/serving", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := CheckSigner(tc.req, tc.signer)
			if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("CheckSigner: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestCSRName(t *testing.T) {
	k1, k2 := newKey(t), newKey(t)
	a, err := CSRName("cp-1", "admin.conf", k1.Public())
	if err != nil {
		t.Fatal(err)
	}
	again, _ := CSRName("cp-1", "admin.conf", k1.Public())
	other, _ := CSRName("cp-1", "admin.conf", k2.Public())
	if a != again || a == other || !strings.HasPrefix(a, "certctl-cp-1-admin.conf-") || len(a) != len("certctl-cp-1-admin.conf-")+12 {
		t.Errorf("names %q, %q (same key), %q (other key)", a, again, other)
	}
	long, err := CSRName(strings.Repeat("n", 253), "etcd-healthcheck-client", k1.Public())
	if err != nil {
		t.Fatal(err)
	}
	if len(long) > validation.DNS1123SubdomainMaxLength || !strings.HasSuffix(long, "-etcd-healthcheck-client-"+a[len(a)-12:]) {
		t.Errorf("long node name: %q (%d characters)", long, len(long))
	}
	odd, err := CSRName("CP_1", "admin.conf", k1.Public())
	if err != nil || !strings.HasPrefix(odd, "certctl-cp-1-admin.conf-") {
		t.Errorf("CSRName(CP_1) = %q, %v", odd, err)
	}
}

func TestUsages(t *testing.T) {
	c := &x509.Certificate{KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}
	got, err := Usages(c)
	want := []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment, certv1.UsageServerAuth, certv1.UsageClientAuth}
	if err != nil || strings.Join(usageStrings(got), ",") != strings.Join(usageStrings(want), ",") {
		t.Errorf("Usages = %v, %v; want %v", got, err, want)
	}
	c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	if _, err := Usages(c); err == nil {
		t.Error("code signing accepted")
	}
}

func usageStrings(u []certv1.KeyUsage) []string {
	out := make([]string, len(u))
	for i, x := range u {
		out[i] = string(x)
	}
	return out
}

// TestFromNodeByName: the CSRs of one node's renewals are found by name
// alone when it reads one way only and carries the node alone, whatever
// their key, and no other node's (cp-1 is a prefix of cp-10). A name cut
// to fit 253 characters is not enough: without a request to tell, the CSR
// is left alone.
func TestFromNodeByName(t *testing.T) {
	k := newKey(t)
	name := func(node, target string) string {
		n, err := CSRName(node, target, k.Public())
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	long := strings.Repeat("n", 253)
	const mine, no, alone = "mine", "no", "left alone"
	for _, tc := range []struct {
		name, node string
		want       string
	}{
		{name("cp-1", "apiserver"), "cp-1", mine},
		{name("cp-1", "super-admin.conf"), "cp-1", alone}, // also node cp-1-super's admin.conf
		{name("cp-1", "admin.conf"), "cp-1", mine},
		{name("CP_1", "etcd-server"), "cp-1", mine},
		{name(long, "etcd-healthcheck-client"), long, alone},
		{name("cp-10", "apiserver"), "cp-1", no},
		{name("cp-1", "apiserver"), "cp-10", no},
		{"certctl-cp-1-apiserver-0123456789ab", "cp-1", mine},
		{"certctl-cp-1-apiserver-0123456789", "cp-1", no},
		{"certctl-cp-1-apiserver-0123456789xy", "cp-1", no},
		{"certctl-cp-1-ca-0123456789ab", "cp-1", no},
		{"certctl--apiserver-0123456789ab", "", no},
		{"csr-8vq2x", "cp-1", no},
	} {
		got, err := FromNode(tc.node, nil)(&certv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: tc.name}})
		verdict := no
		switch {
		case err != nil:
			verdict = alone
		case got != "":
			verdict = mine
		}
		if verdict != tc.want {
			t.Errorf("FromNode(%.20q)(%.40q): %s (%v), want %s", tc.node, tc.name, verdict, err, tc.want)
		}
	}
}

// TestCertificateFromNode: the certificate of node NODE that FromNode
// names for a CSR it accepts, by which approve --all-from-node tells a CSR replaced
// by a newer one for the same certificate; "" for another node's.
func TestCertificateFromNode(t *testing.T) {
	k := newKey(t)
	for _, tc := range []struct{ node, target, from, want string }{
		{"cp-1", "scheduler.conf", "cp-1", "scheduler.conf"},
		{"cp-1", "etcd-server", "cp-1", "etcd-server"},
		{"cp-10", "apiserver", "cp-1", ""},
	} {
		name, err := CSRName(tc.node, tc.target, k.Public())
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := FromNode(tc.from, nil)(&certv1.CertificateSigningRequest{ObjectMeta: metav1.ObjectMeta{Name: name}}); got != tc.want {
			t.Errorf("FromNode(%s)(%s) = %q, want %q", tc.from, name, got, tc.want)
		}
	}
}
