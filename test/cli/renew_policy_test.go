package cli

import (
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
)

// TestRenewKeepsOnlyWhatPolicyIssues: `certctl renew` from the on-disk CA
// copies the subject, SANs and extended key usages of the certificate it
// renews (pki.ProfileFromCert, as kubeadm does). An apiserver.crt that a
// bad external CA, or a hand, gave the "any" extended key usage was
// renewed with it, by the cluster CA's own key, while `certctl signer run`,
// `sign` and `approve` refuse that request (UsageNotAllowed) and `certs
// import` refuses that certificate (policy.Issued). The renewal now drops
// it, with a warning; a SAN the CA signed before is kept, as kubeadm's
// renewal keeps it (SANs added by hand; --update-sans replaces them).
func TestRenewKeepsOnlyWhatPolicyIssues(t *testing.T) {
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
	tmpl.DNSNames = append(slices.Clone(old.DNSNames), "extra.example.com")
	der, err := x509.CreateCertificate(rand.Reader, &tmpl, caCert, old.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	bad, _ := x509.ParseCertificate(der)
	if err := store.WriteCert("apiserver", bad); err != nil {
		t.Fatal(err)
	}
	r := runCode(t, bin, append([]string{"renew", "apiserver"}, n.flags()...)...)
	if r.code != 0 {
		t.Fatalf("renew apiserver: exit %d, stderr %q", r.code, r.errOut)
	}
	if !strings.Contains(r.out+r.errOut, `has the extended key usage "any", which no certctl signer issues: its renewal has server auth`) {
		t.Errorf("renew apiserver said %q%q: no warning that it drops the any usage", r.out, r.errOut)
	}
	got := parseCert(t, filepath.Join(n.certDir, "apiserver.crt"))
	if !slices.Equal(got.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("renewed apiserver.crt has extended key usages %v, want server auth alone: the any usage was issued again by the cluster CA", got.ExtKeyUsage)
	}
	if !slices.Contains(got.DNSNames, "extra.example.com") {
		t.Errorf("renewed apiserver.crt has DNS SANs %v: extra.example.com, which the CA signed before, was dropped (kubeadm's renewal keeps the SANs)", got.DNSNames)
	}
}
