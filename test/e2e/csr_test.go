package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	certv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/certificate/csr"

	"github.com/certctl/certctl/internal/testcluster"
)

// TestCSRSignedByControllerManager proves that kube-controller-manager signs with certctl's CA
// (--cluster-signing-cert-file=ca.crt, --cluster-signing-key-file=ca.key): a
// kubernetes.io/kube-apiserver-client CSR, approved by the test, is issued by the real signer, and the
// certificate chains to certctl's ca.crt (crypto/x509 and `openssl verify`) and logs in.
func TestCSRSignedByControllerManager(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("find openssl: %v; run `make setup`", err)
	}
	c := testcluster.Start(t, testcluster.Options{})
	ctx := testCtx(t, 2*time.Minute)
	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}

	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	subject := pkix.Name{CommonName: "e2e-user", Organization: []string{"e2e-group"}}
	csrPEM, err := certutil.MakeCSR(key, &subject, nil, nil)
	if err != nil {
		t.Fatalf("make CSR: %v", err)
	}
	duration := time.Hour
	start := time.Now()
	name, uid, err := csr.RequestCertificateWithContext(ctx, cs, csrPEM, "e2e-client", certv1.KubeAPIServerClientSignerName,
		&duration, []certv1.KeyUsage{certv1.UsageDigitalSignature, certv1.UsageClientAuth}, key)
	if err != nil {
		t.Fatalf("create CSR: %v", err)
	}

	req, err := cs.CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get CSR %s: %v", name, err)
	}
	req.Status.Conditions = append(req.Status.Conditions, certv1.CertificateSigningRequestCondition{
		Type:    certv1.CertificateApproved,
		Status:  corev1.ConditionTrue,
		Reason:  "E2ETest",
		Message: "approved by test/e2e",
	})
	if _, err := cs.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, name, req, metav1.UpdateOptions{}); err != nil {
		t.Fatalf("approve CSR %s: %v", name, err)
	}
	certPEM, err := csr.WaitForCertificate(ctx, cs, name, uid)
	if err != nil {
		t.Fatalf("wait for kube-controller-manager to sign CSR %s: %v", name, err)
	}
	t.Logf("CSR %s created, approved and issued in %v", name, time.Since(start).Round(time.Millisecond))

	issued := parseCertPEM(t, certPEM, "issued certificate")
	if issued.Subject.CommonName != "e2e-user" || !slices.Equal(issued.Subject.Organization, []string{"e2e-group"}) {
		t.Errorf("issued subject = %q, want CN=e2e-user, O=e2e-group", issued.Subject)
	}
	caFile := filepath.Join(c.PKIDir(), "ca.crt")
	ca := readCert(t, caFile)
	if !slices.Equal(issued.RawIssuer, ca.RawSubject) || !slices.Equal(issued.AuthorityKeyId, ca.SubjectKeyId) {
		t.Errorf("issued certificate's issuer %q (AKI %x) is not certctl's CA %q (SKI %x)", issued.Issuer, issued.AuthorityKeyId, ca.Subject, ca.SubjectKeyId)
	}
	if _, err := issued.Verify(x509.VerifyOptions{Roots: certPool(t, caFile), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("verify issued certificate against certctl's ca.crt: %v", err)
	}

	issuedFile := filepath.Join(t.TempDir(), "issued.crt")
	if err := os.WriteFile(issuedFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(ctx, openssl, "verify", "-CAfile", caFile, issuedFile).CombinedOutput()
	if err != nil || !strings.Contains(string(out), ": OK") {
		t.Errorf("openssl verify -CAfile ca.crt issued.crt: %v\n%s", err, out)
	}

	// The certificate logs in as its subject: the apiserver trusts what its own CA's signer issued.
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Fatalf("pair issued certificate with its key: %v", err)
	}
	cfg := &rest.Config{Host: c.URL(testcluster.APIServer), TLSClientConfig: rest.TLSClientConfig{CAFile: caFile, CertData: certPEM, KeyData: keyPEM}}
	userClient, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ssr, err := userClient.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("log in with the issued certificate: %v", err)
	}
	if u := ssr.Status.UserInfo; u.Username != "e2e-user" || !slices.Contains(u.Groups, "e2e-group") {
		t.Errorf("issued certificate authenticates as %q in %q, want e2e-user in e2e-group", u.Username, u.Groups)
	}
}
