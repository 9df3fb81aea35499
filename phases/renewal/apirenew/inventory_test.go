package apirenew

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	certv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
)

// TestInventoryRowThroughAPI: the test-only inventory row of
// phases/inventory_test.go is renewed through the certificates API with no
// other change: its CSR asks for the row's signer name, and what the signer
// issues with the row's CA is installed.
func TestInventoryRowThroughAPI(t *testing.T) {
	inv := pkitest.ExtraInventory()
	n := pkitest.NewNodeOf(t, inv, nil)
	targets, err := renewal.Select(inv, []string{pkitest.Extra.Name}, false)
	if err != nil {
		t.Fatal(err)
	}
	store := pki.Store{Dir: n.CertDir()}
	caCert, caKey := n.CA(t, pkitest.Extra.CAName)
	was, _, err := store.ReadCert(pkitest.Extra.BaseName)
	if err != nil {
		t.Fatal(err)
	}
	cs := fakeClient()
	var signerName string
	signed := whenCreated(t, cs, 1, func(name string) {
		if c, err := cs.CertificatesV1().CertificateSigningRequests().Get(context.Background(), name, metav1.GetOptions{}); err == nil {
			signerName = c.Spec.SignerName
		}
		decide(t, cs, name, certv1.CertificateApproved, &testCA{cert: caCert, key: caKey})
	})
	pendingDir, err := PendingDir(n.CertDir())
	if err != nil {
		t.Fatal(err)
	}
	is, out := newIssuer(t, cs, t.TempDir(), func(o *Options) { o.PendingDir = pendingDir })
	o := renewal.Options{CertDir: n.CertDir(), KubeconfigDir: n.Dir, Rand: rand.Reader, Issuer: is,
		Now: func() time.Time { return time.Now() }}
	res, err := renewal.Renew(context.Background(), targets, o)
	if err != nil {
		t.Fatalf("renew: %v\n%s", err, out)
	}
	signed()
	if signerName != pkitest.Extra.Signer {
		t.Errorf("CSR signer name %q, want the row's %q", signerName, pkitest.Extra.Signer)
	}
	if len(res.Renewed) != 1 || res.Renewed[0].Name != pkitest.Extra.Name {
		t.Fatalf("renewed %+v", res.Renewed)
	}
	now, _, err := store.ReadCert(pkitest.Extra.BaseName)
	if err != nil {
		t.Fatal(err)
	}
	if now.Equal(was) || now.CheckSignatureFrom(caCert) != nil || now.Subject.CommonName != pkitest.Extra.CommonName {
		t.Errorf("installed certificate CN %q, issuer %q: not a new one from %s", now.Subject.CommonName, now.Issuer, pkitest.Extra.CAName)
	}
}
