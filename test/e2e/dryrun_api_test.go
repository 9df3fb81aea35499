package e2e

import (
	"crypto/x509"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/phases/copycerts"
	"github.com/certctl/certctl/pki"
)

// TestAPIDryRuns: approve, deny, sign and certs upload with --dry-run send
// their writes as server-side dry runs to a real kube-apiserver, which
// checks and authorizes them: each says what would happen, exits 0, and
// the cluster is left as it was (the CSR neither approved, denied nor
// issued; no kubeadm-certs Secret).
func TestAPIDryRuns(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 2*time.Minute)
	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	admin := []string{"--kubeconfig", c.Kubeconfig("admin.conf")}
	p := pki.Profile{CommonName: "my-svc.my-namespace.svc", DNSNames: []string{"my-svc.my-namespace.svc"}, ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	usages := []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageKeyEncipherment, certv1.UsageServerAuth}
	csr := createCSR(t, ctx, cs, "dry-run", "example.com/serving", p, newKey(t), usages)
	unchanged := func(what string) {
		t.Helper()
		got, err := cs.CertificatesV1().CertificateSigningRequests().Get(ctx, csr.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Status.Conditions) > 0 || len(got.Status.Certificate) > 0 {
			t.Errorf("%s --dry-run changed CSR %s: %+v", what, csr.Name, got.Status)
		}
	}

	out, err := runCertctl(t, ctx, append([]string{"approve", csr.Name, "--force", "--dry-run"}, admin...)...)
	if err != nil || !strings.Contains(out, "would be approved") {
		t.Fatalf("approve --dry-run: %v\n%s", err, out)
	}
	unchanged("approve")
	out, err = runCertctl(t, ctx, append([]string{"deny", csr.Name, "--reason", "NotOurs", "--dry-run"}, admin...)...)
	if err != nil || !strings.Contains(out, "would be denied") {
		t.Fatalf("deny --dry-run: %v\n%s", err, out)
	}
	unchanged("deny")

	// sign needs an approved CSR: approved for real, signed as a dry run.
	approve(t, ctx, cs, csr)
	ca := newCA(t, "example.com serving CA")
	caFiles := pki.Store{Dir: t.TempDir()}
	if err := caFiles.WriteCert("ca", ca.cert); err != nil {
		t.Fatal(err)
	}
	if err := caFiles.WriteKey("ca", ca.key); err != nil {
		t.Fatal(err)
	}
	out, err = runCertctl(t, ctx, append([]string{"sign", csr.Name, "--ca-cert", caFiles.CertPath("ca"), "--ca-key", caFiles.KeyPath("ca"), "--dry-run"}, admin...)...)
	if err != nil || !strings.Contains(out, "would be signed") {
		t.Fatalf("sign --dry-run: %v\n%s", err, out)
	}
	if got, err := cs.CertificatesV1().CertificateSigningRequests().Get(ctx, csr.Name, metav1.GetOptions{}); err != nil || len(got.Status.Certificate) > 0 {
		t.Errorf("sign --dry-run issued CSR %s (%v)", csr.Name, err)
	}

	out, err = runCertctl(t, ctx, append([]string{"certs", "upload", "--dry-run", "--cert-dir", c.PKIDir()}, admin...)...)
	if err != nil || !strings.Contains(out, "[dry-run]") {
		t.Fatalf("certs upload --dry-run: %v\n%s", err, out)
	}
	if _, err := cs.CoreV1().Secrets(copycerts.Namespace).Get(ctx, copycerts.SecretName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("certs upload --dry-run stored Secret %s/%s (%v)", copycerts.Namespace, copycerts.SecretName, err)
	}
}
