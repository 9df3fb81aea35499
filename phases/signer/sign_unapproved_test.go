package signer

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/treetest"
)

// TestSignUnapprovedSaysHowToApprove: sign refuses an unapproved CSR and
// says how to approve it. It named only `certctl approve NAME`, whose
// checks cover the control plane's certificates: for another signer's
// request it refuses without --force, so the way kubectl approves is named
// too, as approve's own refusal of --force does.
func TestSignUnapprovedSaysHowToApprove(t *testing.T) {
	req := csrWith(t, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "app"}}, nil)
	client := fake.NewClientset(apiCSR("r", "example.com/client", req, []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageClientAuth}, false))
	_, err := Sign(context.Background(), client, "r", SignOptions{CA: newTestCA(t, "example CA", time.Now().Add(time.Hour))})
	treetest.ErrMentions(t, err, "CSR r is not approved", "certctl approve r", "kubectl certificate approve r")
}
