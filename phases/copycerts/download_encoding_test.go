package copycerts

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestDownloadKeepsSameFilesInAnotherEncoding: the cluster's CA key
// already on the node, rewritten as PKCS#8 (`openssl pkey`), and its
// certificate without its last newline, were refused as "another
// cluster's CA": they are the same key and certificate. They are kept as
// they are, and a file of another cluster is still refused.
func TestDownloadKeepsSameFilesInAnotherEncoding(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	other := pkitest.NewNode(t, nil)
	cs := fake.NewClientset()
	key := testKey(t)
	upload(t, cs, n.CertDir(), key)

	dir := filepath.Join(t.TempDir(), "pki")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, caKey := n.CA(t, "ca")
	der, err := x509.MarshalPKCS8PrivateKey(caKey)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8 := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	if err := os.WriteFile(filepath.Join(dir, "ca.key"), pkcs8, 0o600); err != nil {
		t.Fatal(err)
	}
	crt, err := os.ReadFile(filepath.Join(n.CertDir(), "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ca.crt"), bytes.TrimRight(crt, "\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if orig, _ := os.ReadFile(filepath.Join(n.CertDir(), "ca.key")); bytes.Equal(orig, pkcs8) {
		t.Fatal("the test's key is not in another encoding")
	}

	out, err := download(cs, dir, key, nil)
	if err != nil {
		t.Fatalf("download beside the cluster's own CA in another encoding: %v\n%s", err, out)
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "ca.key")); !bytes.Equal(got, pkcs8) {
		t.Errorf("ca.key was rewritten")
	}
	if !strings.Contains(out, "Keeping "+filepath.Join(dir, "ca.key")+": the same private key as the cluster's, in another encoding") {
		t.Errorf("output:\n%s", out)
	}
	if _, err := (pki.Store{Dir: dir}).ReadKey("sa"); err != nil {
		t.Errorf("sa.key not written: %v", err)
	}

	// Another cluster's key, in any encoding, is still refused.
	dir2 := filepath.Join(t.TempDir(), "pki")
	if err := os.MkdirAll(dir2, 0o755); err != nil {
		t.Fatal(err)
	}
	_, otherKey := other.CA(t, "ca")
	der, err = x509.MarshalPKCS8PrivateKey(otherKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir2, "ca.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := download(cs, dir2, key, nil); err == nil || !strings.Contains(err.Error(), "ca.key differ from the cluster's") {
		t.Errorf("another cluster's ca.key: %v", err)
	}
}
