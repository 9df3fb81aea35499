package signer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"sync"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/pki"
)

// testNow is the fixed clock of the tests.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func node(name, ip string) *config.Cluster {
	c := config.Default()
	c.NodeName, c.AdvertiseAddress = name, ip
	return &c
}

func testPolicy(t testing.TB, o PolicyOptions) *Policy {
	t.Helper()
	if len(o.Nodes) == 0 {
		o.Nodes = []*config.Cluster{node("cp-1", "198.51.100.10")}
	}
	p, err := NewPolicy(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func pkiNode(t testing.TB, c *config.Cluster) pki.Node {
	t.Helper()
	n, err := c.Node()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func certificates(t testing.TB, c *config.Cluster) []pki.Profile {
	return pki.Kubeadm().Certificates(pkiNode(t, c))
}

func kubeconfigs(t testing.TB, c *config.Cluster) []pki.KubeconfigProfile {
	return pki.Kubeadm().Kubeconfigs(pkiNode(t, c))
}

// profile returns the profile called name (a certificate or kubeconfig) of node cp-1.
func profile(t testing.TB, name string) pki.Profile {
	t.Helper()
	certs := certificates(t, node("cp-1", "198.51.100.10"))
	for _, k := range kubeconfigs(t, node("cp-1", "198.51.100.10")) {
		certs = append(certs, k.Profile)
	}
	p, ok := pki.Find(certs, name)
	if !ok {
		t.Fatalf("no profile %q", name)
	}
	return p
}

var (
	keyOnce sync.Once
	testKey crypto.Signer
)

// leafKey is one ECDSA key shared by the tests' requests: keys are slow.
func leafKey(t testing.TB) crypto.Signer {
	t.Helper()
	keyOnce.Do(func() {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

func newTestCA(t testing.TB, cn string, notAfter time.Time) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.NewSelfSignedCA(rand.Reader, pki.Profile{Name: cn, CommonName: cn, IsCA: true}, key,
		pki.Validity{NotBefore: testNow.Add(-time.Hour), NotAfter: notAfter})
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: cert, Key: key}
}

func csrFor(t testing.TB, p pki.Profile) *x509.CertificateRequest {
	t.Helper()
	r, err := pki.NewCSR(rand.Reader, p, leafKey(t))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func csrWith(t testing.TB, tmpl *x509.CertificateRequest, key crypto.Signer) *x509.CertificateRequest {
	t.Helper()
	if key == nil {
		key = leafKey(t)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	r, err := x509.ParseCertificateRequest(der)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// usagesOf returns the API usages kubeadm's profile p is issued with.
func usagesOf(p pki.Profile) []certv1.KeyUsage {
	u := []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment}
	for _, e := range p.ExtKeyUsages {
		switch e {
		case x509.ExtKeyUsageServerAuth:
			u = append(u, certv1.UsageServerAuth)
		case x509.ExtKeyUsageClientAuth:
			u = append(u, certv1.UsageClientAuth)
		}
	}
	return u
}

// apiCSR builds a CSR object for the API.
func apiCSR(name, signerName string, req *x509.CertificateRequest, usages []certv1.KeyUsage, approved bool) *certv1.CertificateSigningRequest {
	csr := &certv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: certv1.CertificateSigningRequestSpec{
			Request:    pki.EncodeCSR(req),
			SignerName: signerName,
			Usages:     usages,
			Username:   "kubernetes-admin",
			Groups:     []string{pki.ClusterAdminsGroup, "system:authenticated"},
		},
	}
	if approved {
		csr.Status.Conditions = []certv1.CertificateSigningRequestCondition{{Type: certv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "Test"}}
	}
	return csr
}

// startController runs a controller with o until the test ends, and fails
// the test if Run returns an error.
func startController(t *testing.T, o ControllerOptions) {
	t.Helper()
	c, err := NewController(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
}

// intermediateCA is a CA certificate for a new key, issued by parent.
func intermediateCA(t testing.TB, parent *CA, cn string, notAfter time.Time) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.Sign(rand.Reader, pki.Profile{Name: cn, CommonName: cn, IsCA: true}, key.Public(), parent.Cert, parent.Key,
		pki.Validity{NotBefore: parent.Cert.NotBefore, NotAfter: notAfter})
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: cert, Key: key}
}

// sameKeyCA is a self-signed CA certificate called cn for the key of ca.
func sameKeyCA(t testing.TB, ca *CA, cn string, notAfter time.Time) *CA {
	t.Helper()
	cert, err := pki.NewSelfSignedCA(rand.Reader, pki.Profile{Name: cn, CommonName: cn, IsCA: true}, ca.Key,
		pki.Validity{NotBefore: ca.Cert.NotBefore, NotAfter: notAfter})
	if err != nil {
		t.Fatal(err)
	}
	return &CA{Cert: cert, Key: ca.Key}
}
