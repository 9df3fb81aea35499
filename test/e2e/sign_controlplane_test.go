package e2e

import (
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/testcluster"
	"github.com/certctl/certctl/phases/signer"
	"github.com/certctl/certctl/pki"
)

// TestSignControlPlaneProfile: `certctl sign` with the cluster CA applies
// to a CSR of certctl's signer names the control-plane profile that
// signer run and approve apply. A request for
// certctl.io/kube-apiserver-serving with a SAN the node's apiserver
// certificate does not have, approved with a plain approval (as kubectl
// certificate approve gives, which checks nothing), is refused naming the
// SAN and gets no certificate; the request with the apiserver's own
// profile is signed and chains to ca.crt.
func TestSignControlPlaneProfile(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Components: []string{testcluster.Etcd, testcluster.APIServer}})
	ctx := testCtx(t, 2*time.Minute)
	cs, err := c.AdminClient()
	if err != nil {
		t.Fatal(err)
	}
	store := pki.Store{Dir: c.PKIDir()}
	old := readCert(t, store.CertPath("apiserver"))
	prof := pki.ProfileFromCert("apiserver", "apiserver", pki.CAName, old)
	name, err := signer.ForCertificate("apiserver")
	if err != nil {
		t.Fatal(err)
	}
	sign := func(csr string) (string, error) {
		return runCertctl(t, ctx, "sign", csr, "--kubeconfig", c.Kubeconfig("admin.conf"), "--cert-dir", c.PKIDir(),
			"--ca-cert", store.CertPath("ca"), "--ca-key", store.KeyPath("ca"))
	}

	evil := prof
	evil.DNSNames = append(slices.Clone(prof.DNSNames), "evil.example.com")
	req := createCSR(t, ctx, cs, "e2e-sign-evil", name, evil, newKey(t), serverUsages)
	approve(t, ctx, cs, req)
	if out, err := sign(req.Name); err == nil || !strings.Contains(out, "evil.example.com") {
		t.Fatalf("certctl sign of a foreign SAN for %s: %v\n%s", name, err, out)
	}
	if got, err := cs.CertificatesV1().CertificateSigningRequests().Get(ctx, req.Name, metav1.GetOptions{}); err != nil || len(got.Status.Certificate) > 0 {
		t.Errorf("the refused CSR %s got a certificate (%v)", req.Name, err)
	}

	req = createCSR(t, ctx, cs, "e2e-sign-apiserver", name, prof, newKey(t), serverUsages)
	approve(t, ctx, cs, req)
	if out, err := sign(req.Name); err != nil || !strings.Contains(out, "signed by") {
		t.Fatalf("certctl sign of the apiserver's profile: %v\n%s", err, out)
	}
	done := waitCSR(t, ctx, cs, req.Name, issued)
	if cert := verifyChain(t, done.Status.Certificate, store.CertPath("ca"), x509.ExtKeyUsageServerAuth); !slices.Equal(cert.DNSNames, old.DNSNames) {
		t.Errorf("signed for %v, want the apiserver's %v", cert.DNSNames, old.DNSNames)
	}
}
