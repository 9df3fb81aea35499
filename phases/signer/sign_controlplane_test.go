package signer

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// TestSignControlPlaneProfile: `certctl sign` applies to a CSR of
// certctl's signer names the control-plane profile that signer run and
// approve apply (Policy.Check): an approved request for
// certctl.io/kube-apiserver-serving with a SAN that no node's apiserver
// certificate has is refused, whoever approved it (kubectl certificate
// approve checks nothing); the request that fits is signed. Without the
// nodes' policy, such a CSR is refused rather than signed unchecked.
func TestSignControlPlaneProfile(t *testing.T) {
	ca := newTestCA(t, "kubernetes", testNow.Add(30*24*time.Hour))
	apiserver := profile(t, "apiserver")
	evil := apiserver
	evil.DNSNames = append(slices.Clone(apiserver.DNSNames), "evil.example.com")
	const serving = "certctl.io/kube-apiserver-serving"
	client := fake.NewClientset([]runtime.Object{
		apiCSR("evil", serving, csrFor(t, evil), usagesOf(apiserver), true),
		apiCSR("good", serving, csrFor(t, apiserver), usagesOf(apiserver), true),
		apiCSR("unchecked", serving, csrFor(t, apiserver), usagesOf(apiserver), true),
	}...)
	ctx := context.Background()
	loads := 0
	o := SignOptions{CA: ca, Now: func() time.Time { return testNow }, ControlPlane: func(context.Context) (*Policy, error) {
		loads++
		return testPolicy(t, PolicyOptions{}), nil
	}}

	_, err := Sign(ctx, client, "evil", o)
	treetest.ErrMentions(t, err, "sign CSR evil", "evil.example.com", "certctl signer run and certctl approve refuse it too")
	if got := certificateOf(t, client, "evil"); got != "" {
		t.Errorf("the refused CSR got a certificate")
	}
	res, err := Sign(ctx, client, "good", o)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Certificate.DNSNames, apiserver.DNSNames) {
		t.Errorf("signed for %v, want %v", res.Certificate.DNSNames, apiserver.DNSNames)
	}
	if loads != 2 {
		t.Errorf("the nodes' policy was read %d times, want once per Sign", loads)
	}

	o.ControlPlane = nil
	_, err = Sign(ctx, client, "unchecked", o)
	treetest.ErrMentions(t, err, "sign CSR unchecked", "its signer name "+serving+" is certctl's", "certctl signer run")
}

func certificateOf(t *testing.T, client *fake.Clientset, name string) string {
	t.Helper()
	csr, err := client.CertificatesV1().CertificateSigningRequests().Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(csr.Status.Certificate))
}

// TestSignRefusesUnknownCertctlName: certctl.io/ is certctl's domain. A CSR
// for a name of it that is none of certctl's signers (a typo of
// certctl.io/kube-apiserver-serving, approved by a plain kubectl
// certificate approve) was signed as a custom signer's, with no
// control-plane profile; it is refused and gets no certificate. signer
// run refuses such a name for --signer too.
func TestSignRefusesUnknownCertctlName(t *testing.T) {
	ca := newTestCA(t, "kubernetes", testNow.Add(30*24*time.Hour))
	evil := profile(t, "apiserver")
	evil.DNSNames = append(evil.DNSNames, "evil.example.com")
	client := fake.NewClientset(apiCSR("typo", "certctl.io/kube-apiserver-servng", csrFor(t, evil), usagesOf(evil), true))
	_, err := Sign(context.Background(), client, "typo", SignOptions{CA: ca, Now: func() time.Time { return testNow }})
	treetest.ErrMentions(t, err, "sign CSR typo", "certctl.io/kube-apiserver-servng is in certctl's domain but none of certctl's signers", "certctl.io/kube-apiserver-serving")
	if got := certificateOf(t, client, "typo"); got != "" {
		t.Errorf("the CSR got a certificate")
	}
	if _, _, err := ParseCustomSigner("certctl.io/foo=/x/ca.crt,/x/ca.key", CASourceOptions{}); err == nil || !strings.Contains(err.Error(), "not certctl's certctl.io/*") {
		t.Errorf("--signer certctl.io/foo: %v, want it refused", err)
	}
}

// TestSignCertificateValidity: for certctl's signer names, `certctl signer
// run` issues at most the cluster's certificate validity
// (certificateValidityPeriod, --certificate-validity), but `certctl sign`
// issued kubeadm's default of one year whatever the cluster said: a
// 30-day cluster got a one-year apiserver certificate through sign. sign
// now caps it at the validity of the cluster settings it loads.
func TestSignCertificateValidity(t *testing.T) {
	ca := newTestCA(t, "kubernetes", time.Now().Add(3*365*24*time.Hour))
	dir := t.TempDir()
	s := pki.Store{Dir: dir}
	writePair(t, s, ca)
	apiserver := profile(t, "apiserver")
	client := fake.NewClientset(apiCSR("r", KubeAPIServerServing, csrFor(t, apiserver), usagesOf(apiserver), true))
	cluster := node("cp-1", "198.51.100.10")
	cluster.CertificatesDir, cluster.CertificateValidity = dir, 30*24*time.Hour
	var out bytes.Buffer
	err := SignWith(t.Context(), func() (kubernetes.Interface, error) { return client, nil }, func() (*config.Cluster, error) { return cluster, nil },
		NodeRules{ControlPlaneNodes: []string{"cp-1=198.51.100.10"}}, "r",
		SignFiles{CACert: s.CertPath("ca"), CAKey: s.KeyPath("ca"), Now: time.Now(), Out: &out, ErrOut: &out})
	if err != nil {
		t.Fatalf("sign: %v\n%s", err, out.String())
	}
	csr, err := client.CertificatesV1().CertificateSigningRequests().Get(t.Context(), "r", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	certs, err := pki.ParseCerts(csr.Status.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	if d := certs[0].NotAfter.Sub(certs[0].NotBefore); d > 31*24*time.Hour {
		t.Errorf("signed for %s, want at most the cluster's 720h (and the backdate)", d)
	}
}
