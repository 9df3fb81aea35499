package signer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// TestSignPolicy: certctl sign applies the issuance policy (issue 13,
// defects 1 and 2), and gives custom signer names' certificates key IDs.
func TestSignPolicy(t *testing.T) {
	ca := newTestCA(t, "custom-ca", testNow.Add(365*24*time.Hour))
	ca.Cert.SubjectKeyId = nil // a CA without SKI still gets an AKI on what it signs
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTrue := pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: []byte{0x30, 0x03, 0x01, 0x01, 0xff}}
	svc := &x509.CertificateRequest{Subject: pkix.Name{CommonName: "my-svc.my-namespace.svc"}, DNSNames: []string{"my-svc.my-namespace.svc"}}
	serving := []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment, certv1.UsageServerAuth}
	const custom = "example.com/serving"
	for _, tc := range []struct {
		name, signerName string
		req              *x509.CertificateRequest
		usages           []certv1.KeyUsage
		rules            policy.Rules
		want             string // a part of the error; "" when signed
	}{
		{"serving", custom, csrWith(t, svc, nil), serving, policy.Rules{}, ""},
		{"system:masters", custom, csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x", Organization: []string{pki.MastersGroup}}}, nil), serving, policy.Rules{}, "O=system:masters"},
		{"system:masters opted in, requester not allowed", custom, csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x", Organization: []string{pki.MastersGroup}}}, nil), serving,
			policy.Rules{AllowSystemMasters: true, RequesterGroups: []string{pki.MastersGroup}}, "may not ask"},
		{"CA:TRUE", custom, csrWith(t, &x509.CertificateRequest{Subject: svc.Subject, ExtraExtensions: []pkix.Extension{caTrue}}, nil), serving, policy.Rules{}, "CA:TRUE"},
		{"RSA-1024", custom, csrWith(t, svc, rsa1024), serving, policy.Rules{}, "RSA-1024"},
		{"ECDSA P-224", custom, csrWith(t, svc, p224), serving, policy.Rules{}, "ECDSA P-224"},
		{"no usages", custom, csrWith(t, svc, nil), nil, policy.Rules{}, "no usages"},
		{"kubernetes.io", certv1.KubeAPIServerClientSignerName, csrFor(t, profile(t, "admin")), usagesOf(profile(t, "admin")), policy.Rules{}, "belongs to kube-controller-manager"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := fake.NewClientset([]runtime.Object{apiCSR("r", tc.signerName, tc.req, tc.usages, true)}...)
			res, err := Sign(t.Context(), client, "r", SignOptions{CA: ca, Rules: tc.rules, Now: func() time.Time { return testNow }})
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("err = %v, want %q", err, tc.want)
				}
				if got, _ := client.CertificatesV1().CertificateSigningRequests().Get(t.Context(), "r", metav1.GetOptions{}); len(got.Status.Certificate) > 0 {
					t.Error("a refused request got a certificate")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := res.Certificate
			ski, _ := policy.KeyID(c.PublicKey)
			aki, _ := policy.KeyID(ca.Cert.PublicKey)
			if string(c.SubjectKeyId) != string(ski) || string(c.AuthorityKeyId) != string(aki) {
				t.Errorf("SKI %x (want %x), AKI %x (want %x)", c.SubjectKeyId, ski, c.AuthorityKeyId, aki)
			}
		})
	}
	// A signing configuration's usages replace empty spec.usages.
	client := fake.NewClientset([]runtime.Object{apiCSR("r", custom, csrWith(t, svc, nil), nil, true)}...)
	if _, err := Sign(t.Context(), client, "r", SignOptions{CA: ca, Profile: &SigningProfile{Usages: serving}, Now: func() time.Time { return testNow }}); err != nil {
		t.Errorf("empty spec.usages, usages from the configuration: %v", err)
	}
}

// TestControllerMastersRequester: with --allow-system-masters, the signer
// itself checks who asked for O=system:masters (issue 13, defect 3).
func TestControllerMastersRequester(t *testing.T) {
	sa := profile(t, "super-admin")
	byAdmin := apiCSR("by-admin", KubeAPIServerClient, csrFor(t, sa), usagesOf(sa), true)
	byOther := apiCSR("by-other", KubeAPIServerClient, csrFor(t, sa), usagesOf(sa), true)
	byOther.Spec.Username, byOther.Spec.Groups = "system:serviceaccount:default:x", []string{"system:serviceaccounts", "system:authenticated"}
	client := fake.NewClientset(byAdmin, byOther)
	startController(t, ControllerOptions{Client: client, CAs: map[string]CAProvider{pki.CAName: newTestCA(t, "kubernetes", testNow.Add(365*24*time.Hour))},
		Policy: testPolicy(t, PolicyOptions{AllowSystemMasters: true}), Now: func() time.Time { return testNow }})
	get := func(name string) *certv1.CertificateSigningRequest {
		csr, err := client.CertificatesV1().CertificateSigningRequests().Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return csr
	}
	for deadline := time.Now().Add(15 * time.Second); State(get("by-admin")) != "Issued" || State(get("by-other")) != "Failed"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("by-admin %s, by-other %s; want Issued and Failed", State(get("by-admin")), State(get("by-other")))
		}
	}
	for _, c := range get("by-other").Status.Conditions {
		if c.Type == certv1.CertificateFailed && c.Reason != policy.ReasonSystemMastersRefused {
			t.Errorf("by-other failed with %s: %s", c.Reason, c.Message)
		}
	}
}

func TestValidityForMinimum(t *testing.T) {
	var v *policy.Violation
	long := newTestCA(t, "ca", testNow.Add(30*24*time.Hour))
	if _, err := ValidityFor(testNow, nil, time.Nanosecond, long.Cert); !errors.As(err, &v) {
		t.Errorf("1ns: %v", err)
	}
	ten := int32(600)
	if got, err := ValidityFor(testNow, &ten, 24*time.Hour, long.Cert); err != nil || !got.NotAfter.Equal(testNow.Add(time.Hour)) {
		t.Errorf("expirationSeconds 600: %v %v, want raised to an hour", got.NotAfter, err)
	}
}

// TestControllerCustomSigner: signer run serves a custom signer name with
// its own CA and signing configuration, under the same issuance policy
// (issue 13, item 2 of "What to build").
func TestControllerCustomSigner(t *testing.T) {
	ca := newTestCA(t, "example CA", testNow.Add(365*24*time.Hour))
	svc := &x509.CertificateRequest{Subject: pkix.Name{CommonName: "my-svc.my-namespace.svc"}, DNSNames: []string{"my-svc.my-namespace.svc"}}
	masters := &x509.CertificateRequest{Subject: pkix.Name{CommonName: "x", Organization: []string{pki.MastersGroup}}}
	const name = "example.com/serving"
	client := fake.NewClientset(
		apiCSR("serving", name, csrWith(t, svc, nil), []certv1.KeyUsage{certv1.UsageServerAuth}, true),
		apiCSR("masters", name, csrWith(t, masters, nil), []certv1.KeyUsage{certv1.UsageServerAuth}, true),
		apiCSR("other", "example.com/other", csrWith(t, svc, nil), []certv1.KeyUsage{certv1.UsageServerAuth}, true),
	)
	prof := &SigningProfile{Usages: []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment, certv1.UsageServerAuth}, Expiry: 24 * time.Hour}
	for _, bad := range []string{"kubernetes.io/kube-apiserver-client", KubeAPIServerServing, "noslash"} {
		if _, err := NewController(ControllerOptions{Client: client, Policy: testPolicy(t, PolicyOptions{}), Custom: []CustomSigner{{Name: bad, CA: ca}}}); err == nil {
			t.Errorf("custom signer name %q accepted", bad)
		}
	}
	startController(t, ControllerOptions{Client: client, Policy: testPolicy(t, PolicyOptions{}),
		Custom: []CustomSigner{{Name: name, CA: ca, Profile: prof}}, Now: func() time.Time { return testNow }})
	get := func(n string) *certv1.CertificateSigningRequest {
		csr, err := client.CertificatesV1().CertificateSigningRequests().Get(t.Context(), n, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return csr
	}
	for deadline := time.Now().Add(15 * time.Second); State(get("serving")) != "Issued" || State(get("masters")) != "Failed"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("serving %s, masters %s; want Issued and Failed", State(get("serving")), State(get("masters")))
		}
	}
	certs, err := pki.ParseCerts(get("serving").Status.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	c := certs[0]
	if err := pki.VerifySignedBy(c, nil, ca.Cert, testNow); err != nil {
		t.Error(err)
	}
	if !c.NotAfter.Equal(testNow.Add(24*time.Hour)) || c.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageKeyEncipherment || len(c.SubjectKeyId) == 0 || len(c.AuthorityKeyId) == 0 {
		t.Errorf("NotAfter %v, key usage %v, SKI %x, AKI %x: want the configuration's expiry and usages, and key IDs", c.NotAfter, c.KeyUsage, c.SubjectKeyId, c.AuthorityKeyId)
	}
	if s := State(get("other")); s != "Approved" {
		t.Errorf("a name the controller does not serve is %s", s)
	}
}

// TestPrivilegedGroupRequester: admin.conf's subject (O=kubeadm:cluster-admins,
// bound to cluster-admin) is as much a control-plane credential as
// O=system:masters. `certctl approve` refused it to a requester outside the
// requester groups, but `certctl signer run` signed it once plain `kubectl
// certificate approve` approved it, and so did `certctl sign`: anyone who
// may create CSRs became a cluster admin on one careless approval. Every
// path now refuses it to that requester (RequesterNotAllowed) and issues
// it to an allowed one.
func TestPrivilegedGroupRequester(t *testing.T) {
	admin := profile(t, "admin")
	byAdmin := apiCSR("by-admin", KubeAPIServerClient, csrFor(t, admin), usagesOf(admin), true)
	byOther := apiCSR("by-other", KubeAPIServerClient, csrFor(t, admin), usagesOf(admin), true)
	byOther.Spec.Username, byOther.Spec.Groups = "system:serviceaccount:default:x", []string{"system:serviceaccounts", "system:authenticated"}
	signedByOther := byOther.DeepCopy()
	signedByOther.Name = "signed-by-other"
	ca := newTestCA(t, "kubernetes", testNow.Add(365*24*time.Hour))
	client := fake.NewClientset(byAdmin, byOther, signedByOther)
	pol := testPolicy(t, PolicyOptions{})

	// certctl sign, with the node's policy.
	o := SignOptions{CA: ca, Now: func() time.Time { return testNow }, ControlPlane: func(context.Context) (*Policy, error) { return pol, nil }}
	_, err := Sign(t.Context(), client, "signed-by-other", o)
	var v *policy.Violation
	if !errors.As(err, &v) || v.Reason != policy.ReasonRequesterNotAllowed || !strings.Contains(err.Error(), "system:serviceaccount:default:x") {
		t.Errorf("sign admin.conf's subject requested by a service account: %v, want %s", err, policy.ReasonRequesterNotAllowed)
	}

	startController(t, ControllerOptions{Client: client, CAs: map[string]CAProvider{pki.CAName: ca}, Policy: pol, Now: func() time.Time { return testNow }})
	get := func(name string) *certv1.CertificateSigningRequest {
		csr, err := client.CertificatesV1().CertificateSigningRequests().Get(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return csr
	}
	for deadline := time.Now().Add(15 * time.Second); State(get("by-admin")) != "Issued" || State(get("by-other")) != "Failed"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("by-admin %s, by-other %s; want Issued and Failed", State(get("by-admin")), State(get("by-other")))
		}
	}
	for _, c := range get("by-other").Status.Conditions {
		if c.Type == certv1.CertificateFailed && c.Reason != policy.ReasonRequesterNotAllowed {
			t.Errorf("by-other failed with %s: %s", c.Reason, c.Message)
		}
	}
}
