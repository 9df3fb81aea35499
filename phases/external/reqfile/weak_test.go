package reqfile

import (
	"crypto/rand"
	"crypto/rsa"
	"os"
	"testing"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestPlanCSRRefusesWeakKey: a key that an earlier run (or someone) left
// in the CSR folder and that the issuance policy refuses (RSA-1024) gets
// no CSR: certs import would refuse the certificate signed for it, after
// the CA operator's work. One line naming it and what to do; nothing is
// written.
func TestPlanCSRRefusesWeakKey(t *testing.T) {
	spec := apiserverSpec(t)
	spec.CSR, spec.Certificate, spec.Key, spec.PublicKey = "", "", "", nil
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	data, err := pki.MarshalPrivateKey(weak)
	if err != nil {
		t.Fatal(err)
	}
	f := FilesOf(t.TempDir(), "apiserver", KeyFile{})
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.Key, data, 0o600); err != nil {
		t.Fatal(err)
	}
	before := treetest.Snapshot(t, f.Dir)
	_, err = PlanCSR(f, spec, nil)
	treetest.ErrMentions(t, err, "the key "+f.Key, "RSA-1024", "remove it and "+f.CSR)
	treetest.AssertSame(t, before, treetest.Snapshot(t, f.Dir))
}
