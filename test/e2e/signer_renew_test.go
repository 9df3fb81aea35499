package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

// TestRenewUseAPICompletedBySigner: `certctl renew apiserver --use-api` creates a CSR for
// certctl.io/kube-apiserver-serving and waits; `certctl approve` approves it after its checks;
// `certctl signer run` signs it with the cluster CA; renew installs the certificate, and the
// restarted kube-apiserver serves it.
func TestRenewUseAPICompletedBySigner(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 4*time.Minute)
	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	store := pki.Store{Dir: c.PKIDir()}
	old := readCert(t, store.CertPath("apiserver"))
	flags := c.PKI().Flags()
	dir := t.TempDir()
	startSignerRun(t, ctx, dir, append([]string{"--kubeconfig", c.Kubeconfig("admin.conf"), "--cert-dir", c.PKIDir()}, flags...)...)

	renew := startProc(t, dir, "certctl-renew", signerCertctl(t), "renew", "apiserver", "--use-api",
		"--cert-dir", c.PKIDir(), "--kubeconfig-dir", c.KubeconfigDir(), "--timeout", "3m")
	var name string
	for name == "" {
		list, err := cs.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range list.Items {
			if r.Spec.SignerName == signer.KubeAPIServerServing {
				name = r.Name
			}
		}
		if renew.exited() {
			log, _ := os.ReadFile(renew.log)
			t.Fatalf("certctl renew --use-api exited before creating its CSR (%v):\n%s", renew.err, log)
		}
		sleepOrFail(t, ctx, 50*time.Millisecond, "the CSR of certctl renew --use-api")
	}
	if out, err := runCertctl(t, ctx, append([]string{"approve", name, "--kubeconfig", c.Kubeconfig("admin.conf")}, flags...)...); err != nil || !strings.Contains(out, "fits the apiserver certificate") {
		t.Fatalf("certctl approve %s: %v\n%s", name, err, out)
	}
	select {
	case <-renew.done:
	case <-ctx.Done():
		t.Fatal("certctl renew --use-api did not finish")
	}
	log, _ := os.ReadFile(renew.log)
	if renew.err != nil {
		t.Fatalf("certctl renew apiserver --use-api: %v\n%s", renew.err, log)
	}
	t.Logf("certctl renew apiserver --use-api:\n%s", log)
	csr, err := cs.CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
	if err != nil || len(csr.Status.Certificate) == 0 {
		t.Fatalf("CSR %s: %v, issued %v", name, err, csr != nil && len(csr.Status.Certificate) > 0)
	}
	renewed := readCert(t, store.CertPath("apiserver"))
	if issuedCert := parseCertPEM(t, csr.Status.Certificate, "CSR "+name); !renewed.Equal(issuedCert) || renewed.Equal(old) {
		t.Errorf("apiserver.crt (serial %v) is not the certificate certctl signer run issued for CSR %s (serial %v)", renewed.SerialNumber, name, issuedCert.SerialNumber)
	}
	key, err := store.ReadKey("apiserver")
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.KeyMatches(renewed, key); err != nil {
		t.Errorf("apiserver.key: %v", err)
	}
	if _, err := renewed.Verify(x509.VerifyOptions{Roots: certPool(t, store.CertPath("ca")), DNSName: "kubernetes.default.svc", KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Errorf("renewed apiserver.crt: %v", err)
	}
	if err := c.Restart(ctx, testcluster.APIServer); err != nil {
		t.Fatal(err)
	}
	conn, err := tls.Dial("tcp", c.Addr(testcluster.APIServer), &tls.Config{RootCAs: certPool(t, store.CertPath("ca")), ServerName: "kubernetes"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := conn.ConnectionState().PeerCertificates[0]; got.SerialNumber.Cmp(renewed.SerialNumber) != 0 {
		t.Errorf("kube-apiserver serves serial %v, want the renewed %v", got.SerialNumber, renewed.SerialNumber)
	}
}
