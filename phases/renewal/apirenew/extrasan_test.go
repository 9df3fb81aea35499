package apirenew

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// issueAs approves CSR name and issues it a certificate of ca for the
// request's own key, with profile p instead of what the request asks: a
// signer that adds a SAN or a usage.
func issueAs(t *testing.T, cs *fake.Clientset, name string, ca *testCA, p pki.Profile) {
	t.Helper()
	ctx := context.Background()
	csrs := cs.CertificatesV1().CertificateSigningRequests()
	got, err := csrs.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got.Status.Conditions = append(got.Status.Conditions, certv1.CertificateSigningRequestCondition{
		Type: certv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "TestReason", Message: "test message"})
	if got, err = csrs.UpdateApproval(ctx, name, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(got.Spec.Request)
	if block == nil {
		t.Fatalf("CSR %s holds no PEM request", name)
	}
	req, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pki.Sign(rand.Reader, p, req.PublicKey, ca.cert, ca.key, pki.NewValidity(time.Now(), 5*time.Minute, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	got.Status.Certificate = pki.EncodeCert(cert)
	if _, err := csrs.UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestExtraSANRefusedBeforeLock: a CSR issued a certificate for its own
// key, subject and usages, but with a SAN it did not ask for, passes
// pki.VerifyIssued (which checks what is missing) and is refused by
// policy.Issued before the lock, as a certificate for another key is
// (TestWrongCertificateSaysNewRequest): noted, left out, the others
// obtained (an *IncompleteError: exit status 6), and the next run finds
// the refusal noted instead of waiting for it again. Its message said to
// have the certificate signed again as its request asks, which a CSR's
// certificate never is, beside the advice of a new key and CSR.
func TestExtraSANRefusedBeforeLock(t *testing.T) {
	cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
	reqs := []renewal.Request{ca.request(t, "admin.conf", adminProfile), ca.request(t, "super-admin.conf", adminProfile)}
	extra := adminProfile
	extra.DNSNames = []string{"evil.example"}
	var csrName string
	done := whenCreated(t, cs, 2, func(name string) {
		if strings.Contains(name, "-admin.conf-") && !strings.Contains(name, "super-") {
			csrName = name
			issueAs(t, cs, name, ca, extra)
			return
		}
		decide(t, cs, name, certv1.CertificateApproved, ca)
	})
	is, out := newIssuer(t, cs, dir, func(o *Options) { o.RerunFlags = " --cert-dir /x/pki" })
	err := is.Obtain(context.Background(), reqs)
	done()
	var inc *IncompleteError
	if !errors.As(err, &inc) || !slices.Equal(inc.Obtained, []string{"super-admin.conf"}) || !slices.Equal(inc.Refused(), []string{"admin.conf"}) || !inc.NotIssued[0].Rejected {
		t.Fatalf("Obtain: %#v, want super-admin.conf obtained and admin.conf refused\n%s", err, out)
	}
	// A CSR's certificate never changes: "have it signed again as its
	// request asks", policy.Issued's advice to a CA operator, is no way
	// out here, and said so beside the advice of a new key and CSR.
	if strings.Contains(err.Error(), "signed again") {
		t.Errorf("Obtain says to have the certificate signed again: %v", err)
	}
	if !contains(err.Error(), "CSR "+csrName+" for admin.conf was issued a certificate that cannot be installed (", "it has SANs not asked for: DNS:evil.example",
		"The certificate a CSR was issued never changes", "certctl renew admin.conf --use-api --new-request=admin.conf --cert-dir /x/pki") {
		t.Errorf("Obtain: %v", err)
	}
	if _, _, ok := is.pending.refused("admin.conf", csrName); !ok {
		t.Errorf("no refusal noted for admin.conf's CSR %s", csrName)
	}
	if k, err := is.pending.load("admin.conf"); k == nil || err != nil {
		t.Errorf("the pending key of admin.conf: %v, %v; want it kept", k, err)
	}
	got, err := is.Issue(context.Background(), reqs[1:])
	if err != nil || len(got) != 1 || got[0].Cert == nil {
		t.Fatalf("Issue(super-admin.conf): %v, %v\n%s", got, err, out)
	}
	is2, out2 := newIssuer(t, cs, dir, func(o *Options) { o.Timeout = time.Minute })
	err = is2.Obtain(context.Background(), reqs[:1])
	if !errors.As(err, &inc) || !slices.Equal(inc.Refused(), []string{"admin.conf"}) || !inc.NotIssued[0].Rejected || !strings.Contains(err.Error(), "in an earlier run") {
		t.Errorf("the next run: %v, want the refusal noted found\n%s", err, out2)
	}
}
