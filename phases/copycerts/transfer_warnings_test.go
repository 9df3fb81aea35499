package copycerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
)

// TestTransferWarnsOfWeakServiceAccountKey: a service-account key pair
// weaker than certctl's policy (RSA-1024) went through upload and
// download without a word, while a weak CA key is warned of. kube-apiserver
// signs every service-account token with it: both now warn, one line on
// stderr naming the file and `certctl ca rotate sa`, and still copy it.
func TestTransferWarnsOfWeakServiceAccountKey(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	s := pki.Store{Dir: n.CertDir()}
	if err := s.WriteKey("sa", weak); err != nil {
		t.Fatal(err)
	}
	if err := s.WritePublicKey("sa", &weak.PublicKey); err != nil {
		t.Fatal(err)
	}
	at := func() time.Time { return pkitest.Made }
	key := testKey(t)
	cs := fake.NewClientset()
	var out, errOut bytes.Buffer
	if _, err := Upload(context.Background(), cs, Options{CertDir: n.CertDir(), Key: key, Now: at, Rand: rand.Reader, Out: &out, ErrOut: &errOut}); err != nil {
		t.Fatalf("upload: %v\n%s%s", err, out.String(), errOut.String())
	}
	wantWarning(t, "upload", errOut.String(), filepath.Join(n.CertDir(), "sa.pub"), "RSA-1024", "certctl ca rotate sa")

	out.Reset()
	errOut.Reset()
	dir := filepath.Join(t.TempDir(), "pki")
	if err := Download(context.Background(), cs, Options{CertDir: dir, Key: key, Now: at, Rand: rand.Reader, Out: &out, ErrOut: &errOut}); err != nil {
		t.Fatalf("download: %v\n%s%s", err, out.String(), errOut.String())
	}
	wantWarning(t, "download", errOut.String(), "sa.pub in secret kube-system/kubeadm-certs", "RSA-1024", "certctl ca rotate sa")
	if _, err := os.Stat(filepath.Join(dir, "sa.key")); err != nil {
		t.Errorf("download did not write the weak key: %v", err)
	}
}

// wantWarning fails t unless one line of got is a warning with every part.
func wantWarning(t *testing.T, what, got string, parts ...string) {
	t.Helper()
	for _, l := range strings.Split(got, "\n") {
		ok := strings.HasPrefix(l, "[warning] ")
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return
		}
	}
	t.Errorf("%s: no warning line with %q in:\n%s", what, parts, got)
}
