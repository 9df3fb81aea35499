package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/pki"
)

// TestCustomSignerRunBinary: the seed document's scenario ("Manage TLS
// Certificates in a Cluster"), with `certctl signer run --signer
// example.com/serving=ca.pem,ca-key.pem,server-signing-config.json` as the
// signer, run as users run it: the built binary, a key and CSR made by
// openssl as the document makes them, the CSR object and its approval
// through the API, the certificate checked with `openssl verify`
// (issue 13, item 2).
func TestCustomSignerRunBinary(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 3*time.Minute)
	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	ex := newExampleSigner(t)
	dir := ex.dir
	startSignerRun(t, ctx, dir, "--kubeconfig", c.Kubeconfig(pki.AdminKubeconfig), "--cert-dir", filepath.Join(dir, "no-control-plane-cas"),
		"--signer", ex.spec())

	// 1. The document's key and CSR, by openssl.
	keyFile, csrFile := filepath.Join(dir, "server.key"), filepath.Join(dir, "server.csr")
	if out, err := exec.CommandContext(ctx, "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", keyFile, "-subj", "/CN=my-pod.my-namespace.pod.cluster.local",
		"-addext", "subjectAltName=DNS:my-svc.my-namespace.svc.cluster.local", "-out", csrFile).CombinedOutput(); err != nil {
		t.Fatalf("openssl req: %v\n%s", err, out)
	}
	request, err := os.ReadFile(csrFile)
	if err != nil {
		t.Fatal(err)
	}
	csr, err := cs.CertificatesV1().CertificateSigningRequests().Create(ctx, &certv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "my-svc.my-namespace"},
		Spec:       certv1.CertificateSigningRequestSpec{Request: request, SignerName: "example.com/serving", Usages: serverUsages},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 2. Approve, as kubectl certificate approve does.
	approve(t, ctx, cs, csr)
	// 3. certctl signer run signs it; 4. fetch it.
	got := waitCSR(t, ctx, cs, csr.Name, issued)
	certFile := filepath.Join(dir, "server.crt")
	if err := os.WriteFile(certFile, got.Status.Certificate, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.CommandContext(ctx, "openssl", "verify", "-CAfile", ex.certFile, "-purpose", "sslserver", certFile).CombinedOutput(); err != nil {
		t.Fatalf("openssl verify of the certificate signer run issued: %v\n%s", err, out)
	}
	if out, err := exec.CommandContext(ctx, "openssl", "x509", "-in", certFile, "-noout", "-ext", "subjectKeyIdentifier,authorityKeyIdentifier,subjectAltName").CombinedOutput(); err != nil ||
		!containsAll(string(out), "Subject Key Identifier", "Authority Key Identifier", "my-svc.my-namespace.svc.cluster.local") {
		t.Errorf("the certificate lacks its key identifiers or SAN: %v\n%s", err, out)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
