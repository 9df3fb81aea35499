package signer

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// TestValidityForCAExpiringSoon: docs/signer.md, "The issuance policy":
// every certificate is valid for at least an hour. The CA's expiry capped
// the window after the minimum was applied, so a CA with less than an hour
// left issued certificates of minutes, which policy.Issued (renew
// --use-api, certs import) then refuses. The window is measured as
// policy.Issued measures it, NotAfter - NotBefore (the backdate included).
func TestValidityForCAExpiringSoon(t *testing.T) {
	for _, tc := range []struct {
		left time.Duration // the CA's validity left at testNow
		ok   bool
	}{
		{10 * time.Minute, false},
		{54 * time.Minute, false}, // 59 minutes with the backdate
		{55 * time.Minute, true},  // exactly an hour
		{2 * time.Hour, true},
	} {
		ca := newTestCA(t, "kubernetes", testNow.Add(tc.left))
		v, err := ValidityFor(testNow, nil, 365*24*time.Hour, ca.Cert)
		var viol *policy.Violation
		switch {
		case tc.ok && err != nil:
			t.Errorf("CA with %v left: %v", tc.left, err)
		case tc.ok && v.NotAfter.Sub(v.NotBefore) < policy.MinValidity:
			t.Errorf("CA with %v left: validity %v, want at least %v", tc.left, v.NotAfter.Sub(v.NotBefore), policy.MinValidity)
		case !tc.ok && (!errors.As(err, &viol) || viol.Reason != policy.ReasonValidityNotAllowed || !strings.Contains(err.Error(), "rotate the CA")):
			t.Errorf("CA with %v left: validity %v - %v, err %v; want %s saying to rotate the CA", tc.left, v.NotBefore, v.NotAfter, err, policy.ReasonValidityNotAllowed)
		}
	}
}

// switchableCA is a CAProvider whose CA a test replaces, as a CASource
// does on a reload.
type switchableCA struct{ ca atomic.Pointer[CA] }

func (s *switchableCA) Current() *CA { return s.ca.Load() }

// TestControllerWaitsForCAExpiringSoon: signer run signs nothing with a CA
// about to expire (the certificate would be shorter than an hour), nor
// fails the CSR: it waits, approved, and is signed once the CA is rotated.
// `certctl sign` refuses it too.
func TestControllerWaitsForCAExpiringSoon(t *testing.T) {
	ec := profile(t, "apiserver-etcd-client")
	csr := apiCSR("r", EtcdClient, csrFor(t, ec), usagesOf(ec), true)
	soon := newTestCA(t, "etcd-ca", testNow.Add(20*time.Minute))
	pol := testPolicy(t, PolicyOptions{})

	client := fake.NewClientset(csr.DeepCopy())
	_, err := Sign(t.Context(), client, "r", SignOptions{CA: soon, Now: func() time.Time { return testNow },
		ControlPlane: func(context.Context) (*Policy, error) { return pol, nil }})
	if err == nil || !strings.Contains(err.Error(), "rotate the CA") || certificateOf(t, client, "r") != "" {
		t.Errorf("sign: %v, want a refusal saying to rotate the CA and no certificate", err)
	}

	client = fake.NewClientset(csr.DeepCopy())
	provider := &switchableCA{}
	provider.ca.Store(soon)
	startController(t, ControllerOptions{Client: client, CAs: map[string]CAProvider{pki.EtcdCAName: provider}, Policy: pol, Now: func() time.Time { return testNow }})
	time.Sleep(time.Second) // a few tries of the work queue (200ms, doubling)
	if s := State(getCSR(t, client, "r")); s != "Approved" {
		t.Fatalf("with a CA expiring in 20 minutes the CSR is %s, want Approved (waiting)", s)
	}
	rotated := newTestCA(t, "etcd-ca", testNow.Add(365*24*time.Hour))
	provider.ca.Store(rotated)
	for deadline := time.Now().Add(15 * time.Second); State(getCSR(t, client, "r")) != "Issued"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after the rotation the CSR is %s, want Issued", State(getCSR(t, client, "r")))
		}
	}
	certs, err := pki.ParseCerts(getCSR(t, client, "r").Status.Certificate)
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.VerifySignedBy(certs[0], nil, rotated.Cert, testNow); err != nil {
		t.Errorf("certificate not signed by the rotated CA: %v", err)
	}
}

// TestStatusCAExpiringSoon: signer status says "ready" only for a CA that
// signer run signs with; one that expires before a certificate of an hour
// would is "ca-unusable", with the problem that says to rotate it.
func TestStatusCAExpiringSoon(t *testing.T) {
	for _, tc := range []struct {
		left time.Duration
		want string
	}{
		{30 * time.Minute, "ca-unusable"},
		{2 * time.Hour, "ready"},
	} {
		certDir := t.TempDir()
		ca := newTestCA(t, "kubernetes", testNow.Add(tc.left))
		keyPEM, err := pki.MarshalPrivateKey(ca.Key)
		if err != nil {
			t.Fatal(err)
		}
		for f, data := range map[string][]byte{"ca.crt": pki.EncodeCert(ca.Cert), "ca.key": keyPEM} {
			if err := os.WriteFile(filepath.Join(certDir, f), data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
		s, err := Status(filepath.Join(t.TempDir(), "none.yaml"), certDir, testNow)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range s.Signers {
			if e.Name != KubeAPIServerServing {
				continue
			}
			if e.State != tc.want || (tc.want == "ca-unusable") != strings.Contains(e.Problem, "rotate the CA") {
				t.Errorf("CA with %v left: %s (%s), want %s", tc.left, e.State, e.Problem, tc.want)
			}
		}
	}
}
