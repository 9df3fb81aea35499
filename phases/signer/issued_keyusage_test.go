package signer

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// issuedCase is one request of TestIssuedPassesPolicy: a CSR of one of
// certctl's signer names that fits the profile want, with usages that are
// the profile's extended key usages and a subset of its key usages.
type issuedCase struct {
	name, signer string
	req          *x509.CertificateRequest
	usages       []certv1.KeyUsage
	want         pki.Profile // what the certificate must be (its SANs: those asked for)
}

// issuedCases lists, for every control-plane certificate and kubeconfig of
// certctl's signer names, every subset of digital signature and key
// encipherment beside the profile's extended key usages (all fit,
// TestPolicyCheck), and the apiserver CSR with fewer SANs and only server
// auth ("apiserver, fewer SANs" there).
func issuedCases(t *testing.T) []issuedCase {
	t.Helper()
	n := node("cp-1", "198.51.100.10")
	profiles := certificates(t, n)
	for _, k := range kubeconfigs(t, n) {
		profiles = append(profiles, k.Profile)
	}
	var cases []issuedCase
	for _, p := range profiles {
		if p.IsCA {
			continue
		}
		signerName, err := ForCertificate(p.Name)
		if err != nil {
			t.Fatal(err)
		}
		var ekus []certv1.KeyUsage
		for _, u := range usagesOf(p) {
			if _, ok := extKeyUsages[u]; ok {
				ekus = append(ekus, u)
			}
		}
		for _, ku := range [][]certv1.KeyUsage{nil, {certv1.UsageDigitalSignature}, {certv1.UsageKeyEncipherment}, {certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment}} {
			usages := append(append([]certv1.KeyUsage{}, ku...), ekus...)
			cases = append(cases, issuedCase{fmt.Sprintf("%s %q", p.Name, usages), signerName, csrFor(t, p), usages, p})
		}
	}
	fewer := profile(t, "apiserver")
	fewer.DNSNames, fewer.IPs = []string{"kubernetes"}, nil
	cases = append(cases, issuedCase{"apiserver, fewer SANs", KubeAPIServerServing,
		csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "kube-apiserver"}, DNSNames: []string{"kubernetes"}}, nil),
		[]certv1.KeyUsage{certv1.UsageServerAuth}, fewer})
	return cases
}

// checkIssued checks that cert, issued for c by ca, passes what `certs
// import` and `renew --use-api` apply (pki.VerifyIssued, policy.Issued),
// and has the key usages kubeadm gives every certificate.
func checkIssued(t *testing.T, c issuedCase, cert *x509.Certificate, ca *CA) {
	t.Helper()
	if err := pki.VerifyIssued(cert, nil, leafKey(t).Public(), ca.Cert, c.want, testNow); err != nil {
		t.Errorf("%s: VerifyIssued: %v", c.name, err)
	}
	if err := policy.Issued(cert, c.want); err != nil {
		t.Errorf("%s: policy.Issued: %v", c.name, err)
	}
	if want := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment; cert.KeyUsage != want {
		t.Errorf("%s: key usage %v, want kubeadm's digital signature and key encipherment (%v)", c.name, cert.KeyUsage, want)
	}
}

// TestIssuedPassesPolicy: a CSR of certctl's signer names fits its profile
// with any subset of the profile's key usages (digital signature, key
// encipherment), say only "server auth" for the apiserver, as kubectl's
// examples ask; signer run and sign issued exactly those usages, so the
// certificate lacked digital signature, which pki.VerifyIssued (certs
// import, renew --use-api) refuses and a TLS server with an ECDSA or
// RSA-PSS key needs. What they issue for certctl's names now carries the
// profile's key usages (kubeadm's) and the requested extended key usages,
// and passes VerifyIssued and policy.Issued. A custom signer name keeps
// what was requested.
func TestIssuedPassesPolicy(t *testing.T) {
	cas := map[string]*CA{
		pki.CAName:           newTestCA(t, "kubernetes", testNow.Add(365*24*time.Hour)),
		pki.FrontProxyCAName: newTestCA(t, "front-proxy-ca", testNow.Add(365*24*time.Hour)),
		pki.EtcdCAName:       newTestCA(t, "etcd-ca", testNow.Add(365*24*time.Hour)),
	}
	cases := issuedCases(t)
	pol := testPolicy(t, PolicyOptions{AllowSystemMasters: true})

	t.Run("sign", func(t *testing.T) {
		for _, c := range cases {
			ca := cas[CAFor(c.signer)]
			client := fake.NewClientset(apiCSR("r", c.signer, c.req, c.usages, true))
			res, err := Sign(t.Context(), client, "r", SignOptions{CA: ca, Rules: pol.Rules(), Now: func() time.Time { return testNow },
				ControlPlane: func(context.Context) (*Policy, error) { return pol, nil }})
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			checkIssued(t, c, res.Certificate, ca)
		}
	})

	t.Run("signer run", func(t *testing.T) {
		var objs []runtime.Object
		for i, c := range cases {
			objs = append(objs, apiCSR(fmt.Sprint(i), c.signer, c.req, c.usages, true))
		}
		client := fake.NewClientset(objs...)
		providers := map[string]CAProvider{}
		for name, ca := range cas {
			providers[name] = ca
		}
		startController(t, ControllerOptions{Client: client, CAs: providers, Policy: pol, Now: func() time.Time { return testNow }, Workers: 4})
		for i, c := range cases {
			var csr *certv1.CertificateSigningRequest
			for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if csr = getCSR(t, client, fmt.Sprint(i)); State(csr) != "Approved" || time.Now().After(deadline) {
					break
				}
			}
			certs, err := pki.ParseCerts(csr.Status.Certificate)
			if err != nil {
				t.Errorf("%s: %s, no certificate: %v", c.name, State(csr), err)
				continue
			}
			checkIssued(t, c, certs[0], cas[CAFor(c.signer)])
		}
	})

	t.Run("openssl", func(t *testing.T) {
		openssl, err := exec.LookPath("openssl")
		if err != nil {
			t.Skip("no openssl")
		}
		c := cases[len(cases)-1] // the apiserver's, with only server auth
		client := fake.NewClientset(apiCSR("r", c.signer, c.req, c.usages, true))
		res, err := Sign(t.Context(), client, "r", SignOptions{CA: cas[pki.CAName], Rules: pol.Rules(), Now: func() time.Time { return testNow },
			ControlPlane: func(context.Context) (*Policy, error) { return pol, nil }})
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "apiserver.crt")
		if err := os.WriteFile(file, pki.EncodeCert(res.Certificate), 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(openssl, "x509", "-noout", "-text", "-in", file).CombinedOutput()
		if err != nil {
			t.Fatalf("openssl x509: %v\n%s", err, out)
		}
		for _, want := range []string{"Digital Signature, Key Encipherment", "TLS Web Server Authentication"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("openssl x509 -text lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("custom signer name", func(t *testing.T) {
		ca := newTestCA(t, "example CA", testNow.Add(365*24*time.Hour))
		req := csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "my-svc.my-namespace.svc"}, DNSNames: []string{"my-svc.my-namespace.svc"}}, nil)
		client := fake.NewClientset(apiCSR("r", "example.com/serving", req, []certv1.KeyUsage{certv1.UsageServerAuth}, true))
		res, err := Sign(t.Context(), client, "r", SignOptions{CA: ca, Now: func() time.Time { return testNow }})
		if err != nil {
			t.Fatal(err)
		}
		if res.Certificate.KeyUsage != 0 {
			t.Errorf("custom signer name: key usage %v, want what was requested (none)", res.Certificate.KeyUsage)
		}
	})
}
