package cli

import (
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
)

// TestRenewKeepsOnlyWhatPolicyIssues: `certctl renew` from the on-disk CA
// copies the subject, SANs and extended key usages of the certificate it
// renews (pki.ProfileFromCert, as kubeadm does). An apiserver.crt that a
// bad external CA, or a hand, gave the "any" extended key usage and a SAN
// outside the node's is renewed with both, by the cluster CA's own key,
// while `certctl signer run`, `sign` and `approve` refuse that request
// (UsageNotAllowed, SANNotAllowed) and `certs import` refuses that
// certificate (policy.Issued). Skipped until phases/renewal applies the
// policy to what it copies (outside the policy branch's packages).
func TestRenewKeepsOnlyWhatPolicyIssues(t *testing.T) {
	t.Skip("defect in phases/renewal: renew copies the any extended key usage and foreign SANs; see the policy branch's report")
	bin := certctlBin(t)
	n := makeNode(t, bin, "ECDSA-P256")
	store := pki.Store{Dir: n.certDir}
	old := parseCert(t, store.CertPath("apiserver"))
	caCert := parseCert(t, store.CertPath("ca"))
	caKey, err := pki.ReadKeyFile(store.KeyPath("ca"))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := *old
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.ExtKeyUsage = append(slices.Clone(old.ExtKeyUsage), x509.ExtKeyUsageAny)
	tmpl.DNSNames = append(slices.Clone(old.DNSNames), "evil.example.com")
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, caCert, old.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	bad, _ := x509.ParseCertificate(der)
	if err := store.WriteCert("apiserver", bad); err != nil {
		t.Fatal(err)
	}
	run(t, bin, append([]string{"renew", "apiserver"}, n.flags()...)...)
	got := parseCert(t, filepath.Join(n.certDir, "apiserver.crt"))
	if slices.Contains(got.ExtKeyUsage, x509.ExtKeyUsageAny) || slices.Contains(got.DNSNames, "evil.example.com") {
		t.Errorf("renewed apiserver.crt has extended key usages %v and DNS SANs %v: the any usage and evil.example.com were issued again by the cluster CA", got.ExtKeyUsage, got.DNSNames)
	}
}
