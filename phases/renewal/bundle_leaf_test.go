package renewal

import (
	"context"
	"os"
	"testing"

	"github.com/certctl/certctl/pki"
)

// TestRenewLeafOfALaterCAInTheBundle: during a CA rotation's reissue stage
// ca.crt is the new CA then the old one, and a leaf still signed by the
// old one (put back from the stage's backup, say) is trusted by every
// client that reads ca.crt. `renew` refused it as "not signed by the CA
// ca.crt", where kubeadm's `certs renew` re-signs it; it now re-signs it
// with the CA that signs (the first of ca.crt, whose key is ca.key). A
// leaf of a CA that is not in ca.crt is still refused.
func TestRenewLeafOfALaterCAInTheBundle(t *testing.T) {
	old := newNode(t, nil)
	next := newNode(t, nil)
	bundle := append(read(t, next.path("pki/ca.crt")), read(t, old.path("pki/ca.crt"))...)
	for file, data := range map[string][]byte{"pki/ca.crt": bundle, "pki/ca.key": read(t, next.path("pki/ca.key"))} {
		if err := os.WriteFile(old.path(file), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Renew(context.Background(), old.targets(t, "apiserver"), old.options(renewAt)); err != nil {
		t.Fatalf("renew apiserver, signed by the second CA of ca.crt: %v", err)
	}
	newCA, _, err := pki.ReadCertFile(next.path("pki/ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := pki.VerifySignedBy(old.cert(t, "apiserver"), nil, newCA, renewAt); err != nil {
		t.Errorf("the renewed apiserver.crt is not signed by the CA that signs: %v", err)
	}

	// A CA that is not in ca.crt at all: refused, as before.
	if err := os.WriteFile(old.path("pki/ca.crt"), read(t, next.path("pki/ca.crt")), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Renew(context.Background(), old.targets(t, "apiserver-kubelet-client"), old.options(renewAt)); err == nil {
		t.Error("renew of a leaf of a CA that is not in ca.crt went through")
	}
}
