package apirenew

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/renewal"
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
	r, dropped, other := changedBeforeTheLock(t, n, cs, ca)

	_, err := r.renew()
	if err == nil || !contains(err.Error(), "it has SANs not asked for: DNS:"+dropped, "CSR "+r.is.csrs["apiserver"], "never changes",
		"certctl renew apiserver --use-api --new-request=apiserver", "nothing was replaced") || strings.Contains(err.Error(), "signed again") {
		t.Fatalf("renew: %v", err)
	}
	if got, _, err := (pki.Store{Dir: n.CertDir()}).ReadCert("apiserver"); err != nil || !got.Equal(other) {
		t.Errorf("apiserver.crt replaced (%v)", err)
	}
}

// changedBeforeTheLock starts a run renewing apiserver, whose CSR is
// approved and issued, then renews apiserver.crt as another run would,
// with its last DNS name dropped (dropped), before the run takes the
// lock: other is the certificate installed then.
func changedBeforeTheLock(t *testing.T, n *pkitest.Node, cs *fake.Clientset, ca *testCA) (r *nodeRun, dropped string, other *x509.Certificate) {
	t.Helper()
	approve := whenCreated(t, cs, 1, func(name string) { decide(t, cs, name, certv1.CertificateApproved, ca) })
	r = startNodeRun(t, n, cs, ca, "apiserver")
	approve()

	s := pki.Store{Dir: n.CertDir()}
	cur, _, err := s.ReadCert("apiserver")
	if err != nil {
		t.Fatal(err)
	}
	p := pki.ProfileFromCert("apiserver", "apiserver", pki.CAName, cur)
	dropped = p.DNSNames[len(p.DNSNames)-1]
	p.DNSNames = slices.Delete(p.DNSNames, len(p.DNSNames)-1, len(p.DNSNames))
	key := newKey(t)
	other, err = pki.Sign(rand.Reader, p, key.Public(), ca.cert, ca.key, pki.NewValidity(time.Now(), time.Hour, 24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.WriteKey("apiserver", key); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteCert("apiserver", other); err != nil {
		t.Fatal(err)
	}
	return r, dropped, other
}

// TestChangedBeforeTheLockNoted: the refusal under the lock is noted
// beside the pending key, as a certificate refused when its CSR is issued
// is (accept). Before, nothing was: the next run fetched the same issued
// CSR, refused it again, and only then noted it. Now the next run asks
// nothing about that CSR of the API, says at once that it was refused in
// an earlier run, and gives --new-request=apiserver (not "once its signer
// is fixed": it was the files that changed); the dry run's
// RefusedEarlier reports it; and --new-request's new key and CSR clear
// it.
func TestChangedBeforeTheLockNoted(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	cs, ca := fakeClient(), nodeCA(t, n)
	first, _, _ := changedBeforeTheLock(t, n, cs, ca)
	if _, err := first.renew(); err == nil {
		t.Fatal("renew under the lock: no error")
	}
	csr := first.is.csrs["apiserver"]
	pendingDir, err := PendingDir(n.CertDir())
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := renewal.Requests(first.sel, first.opts)
	if err != nil {
		t.Fatal(err)
	}
	if got := RefusedEarlier(pendingDir, "cp-1", map[string]pki.KeyAlgorithm{"apiserver": reqs[0].KeyAlgorithm}); got["apiserver"].CSR != csr {
		t.Errorf("RefusedEarlier (the dry run): %+v, want CSR %s", got, csr)
	}

	again := func(change func(o *Options)) (string, error) {
		is, out := newIssuer(t, cs, t.TempDir(), func(o *Options) {
			o.PendingDir = pendingDir
			o.Timeout = 300 * time.Millisecond
			if change != nil {
				change(o)
			}
		})
		err := is.Obtain(context.Background(), reqs)
		return out.String(), err
	}
	cs.ClearActions()
	out, err := again(nil)
	var inc *IncompleteError
	if !errors.As(err, &inc) || len(inc.NotIssued) != 1 || !inc.NotIssued[0].Refused || !inc.NotIssued[0].Changed ||
		!contains(err.Error(), "CSR "+csr+" for apiserver", "no longer fits the files of apiserver", "in an earlier run",
			"approving it again would not change it: renew with a new key and CSR: certctl renew apiserver --use-api --new-request=apiserver") {
		t.Fatalf("next run: %v\n%s", err, out)
	}
	if !strings.Contains(out, "refused in an earlier run: renew it with --new-request=apiserver") {
		t.Errorf("next run's CSR line:\n%s", out)
	}
	for _, a := range cs.Actions() {
		if a.GetResource().Resource == "certificatesigningrequests" {
			t.Errorf("next run asked the API about the CSR refused earlier: %s %s", a.GetVerb(), a.GetResource().Resource)
		}
	}

	whenCreated(t, cs, 2, func(name string) { decide(t, cs, name, certv1.CertificateApproved, ca) })
	if out, err := again(func(o *Options) { o.NewRequestFor = []string{"apiserver"} }); err != nil {
		t.Fatalf("--new-request=apiserver: %v\n%s", err, out)
	}
	if _, err := os.Stat(pending{dir: pendingDir}.refusedPath("apiserver")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("refusal note after --new-request: %v", err)
	}
}
