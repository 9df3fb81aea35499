package signer

import (
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/policy"
)

// TestControllerCertSignIsCARequested: docs/signer.md, "The issuance
// policy": a request that asks for the cert sign or crl sign usages is
// refused with reason CARequested, "whatever the signer name". signer run
// marked one for certctl's own names Failed with UsageNotAllowed (the
// profile check ran before the policy's), so an alert on CARequested
// missed it.
func TestControllerCertSignIsCARequested(t *testing.T) {
	ec := profile(t, "apiserver-etcd-client")
	var csrs []*certv1.CertificateSigningRequest
	for _, u := range []certv1.KeyUsage{certv1.UsageCertSign, certv1.UsageCRLSign} {
		csrs = append(csrs, apiCSR(string(u[:3]), EtcdClient, csrFor(t, ec), append(usagesOf(ec), u), true))
	}
	client := fake.NewClientset(csrs[0], csrs[1])
	startController(t, ControllerOptions{Client: client, CAs: map[string]CAProvider{pki.EtcdCAName: newTestCA(t, "etcd-ca", testNow.Add(365*24*time.Hour))},
		Policy: testPolicy(t, PolicyOptions{}), Now: func() time.Time { return testNow }})
	for _, want := range csrs {
		var got *certv1.CertificateSigningRequest
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			var err error
			if got, err = client.CertificatesV1().CertificateSigningRequests().Get(t.Context(), want.Name, metav1.GetOptions{}); err != nil {
				t.Fatal(err)
			}
			if State(got) == "Failed" || State(got) == "Issued" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %s after 15s", want.Name, State(got))
			}
		}
		for _, c := range got.Status.Conditions {
			if c.Type == certv1.CertificateFailed && c.Reason != policy.ReasonCARequested {
				t.Errorf("usages %v: Failed with %s (%s), want %s", want.Spec.Usages, c.Reason, c.Message, policy.ReasonCARequested)
			}
		}
		if State(got) != "Failed" {
			t.Errorf("usages %v: %s, want Failed", want.Spec.Usages, State(got))
		}
	}
}
