package apirenew

import (
	"context"
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"

	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// TestNotYetValidLeftOut: a certificate issued valid only from a time
// ahead of this host's clock (its signer's clock is ahead by more than it
// backdates) was kept, and renewal then refused it under the lock, and
// with it the whole batch: one certificate stopped the install of all.
// It is now reported as not issued, with its time, the host's, and what to
// do, so that the others install (an *IncompleteError, exit status 6);
// its key stays pending for the same command to install it later.
func TestNotYetValidLeftOut(t *testing.T) {
	cs, ca, dir := fakeClient(), newTestCA(t), t.TempDir()
	now := time.Now().Truncate(time.Second)
	is, out := newIssuer(t, cs, dir, func(o *Options) { o.Now = func() time.Time { return now } })
	serving := pki.Profile{CommonName: "kube-apiserver", DNSNames: []string{"kubernetes", "cp-1"}, ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	reqs := []renewal.Request{ca.request(t, "admin.conf", adminProfile), ca.request(t, "apiserver", serving)}
	done := whenCreated(t, cs, 2, func(name string) {
		v := pki.NewValidity(now, 5*time.Minute, time.Hour)
		if strings.Contains(name, "-apiserver-") {
			v = pki.NewValidity(now.Add(20*time.Minute), 5*time.Minute, time.Hour) // valid from now+15m
		}
		decideValid(t, cs, name, certv1.CertificateApproved, ca, v)
	})
	err := is.Obtain(context.Background(), reqs)
	done()
	var inc *IncompleteError
	if !errors.As(err, &inc) || !slices.Equal(inc.Obtained, []string{"admin.conf"}) || !slices.Equal(inc.Names(), []string{"apiserver"}) || inc.Refused() != nil {
		t.Fatalf("Obtain: %#v, want admin.conf obtained and apiserver not\n%s", err, out)
	}
	for _, want := range []string{"for apiserver was issued a certificate valid only from ", "15m0s ahead of this host's clock",
		"set this host's clock right (timedatectl, NTP), or wait until then, and run the same command again, which installs that certificate",
		"Run: certctl renew apiserver --use-api (it picks up the same CSRs and keys)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
	got, err := is.Issue(context.Background(), reqs[:1])
	if err != nil || len(got) != 1 || got[0].Cert == nil {
		t.Fatalf("Issue(admin.conf): %v, %v", got, err)
	}
	if k, err := is.pending.load("apiserver"); k == nil || err != nil {
		t.Errorf("the pending key of apiserver: %v, %v; want it kept", k, err)
	}
}
