package apirenew

import (
	"crypto/rand"
	"slices"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestChangedBeforeTheLock: a certificate whose file changes between the
// request and the lock (another run renewed apiserver.crt with a SAN
// dropped, --update-sans --drop-sans) is refused under the lock for the
// SAN its CSR asked for and the file no longer has. Its CSR's certificate
// never changes: the error says to renew with a new key and CSR
// (--new-request=apiserver), not renewal's advice for a CA that can sign
// again ("have it signed again as its request asks"), which it gave.
func TestChangedBeforeTheLock(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	cs, ca := fakeClient(), nodeCA(t, n)
	approve := whenCreated(t, cs, 1, func(name string) { decide(t, cs, name, certv1.CertificateApproved, ca) })
	r := startNodeRun(t, n, cs, ca, "apiserver")
	approve()

	s := pki.Store{Dir: n.CertDir()}
	cur, _, err := s.ReadCert("apiserver")
	if err != nil {
		t.Fatal(err)
	}
	p := pki.ProfileFromCert("apiserver", "apiserver", pki.CAName, cur)
	dropped := p.DNSNames[len(p.DNSNames)-1]
	p.DNSNames = slices.Delete(p.DNSNames, len(p.DNSNames)-1, len(p.DNSNames))
	key := newKey(t)
	other, err := pki.Sign(rand.Reader, p, key.Public(), ca.cert, ca.key, pki.NewValidity(time.Now(), time.Hour, 24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteKey("apiserver", key); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteCert("apiserver", other); err != nil {
		t.Fatal(err)
	}

	_, err = r.renew()
	if err == nil || !contains(err.Error(), "it has SANs not asked for: DNS:"+dropped, "CSR "+r.is.csrs["apiserver"], "never changes",
		"certctl renew apiserver --use-api --new-request=apiserver", "nothing was replaced") || strings.Contains(err.Error(), "signed again") {
		t.Fatalf("renew: %v", err)
	}
	if got, _, err := s.ReadCert("apiserver"); err != nil || !got.Equal(other) {
		t.Errorf("apiserver.crt replaced (%v)", err)
	}
}
