package copycerts

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
)

// TestDownloadTightensLooseKey: a CA key already in the folder, identical
// to the cluster's but mode 0644 (copied by hand with cp, say), was kept
// as it was, and check-expiration then reported key-permissions. The file
// is the cluster's, so download keeps it and makes it 0600, as the keys it
// writes, and says so; --dry-run only says it would.
func TestDownloadTightensLooseKey(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	cs := fake.NewClientset()
	key := testKey(t)
	upload(t, cs, n.CertDir(), key)
	dir := filepath.Join(t.TempDir(), "pki")
	if out, err := download(cs, dir, key, nil); err != nil {
		t.Fatalf("first download: %v\n%s", err, out)
	}
	caKey := filepath.Join(dir, "ca.key")
	if err := os.Chmod(caKey, 0o644); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	err := Download(context.Background(), cs, Options{Now: downloaded, CertDir: dir, Key: key, Rand: rand.Reader, Out: &out, ErrOut: &out, DryRun: true})
	if err != nil || !strings.Contains(out.String(), "would make "+caKey+" mode 0600") {
		t.Errorf("dry run: %v\n%s", err, out.String())
	}
	if fi, err := os.Stat(caKey); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("dry run changed %s: %v %v", caKey, fi.Mode(), err)
	}

	got, err := download(cs, dir, key, nil)
	if err != nil {
		t.Fatalf("download: %v\n%s", err, got)
	}
	fi, err := os.Stat(caKey)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s after download: mode %v (%v), want 0600\n%s", caKey, fi.Mode().Perm(), err, got)
	}
	if !strings.Contains(got, "Keeping "+caKey+": identical, but mode 0644") || !strings.Contains(got, "made 0600") {
		t.Errorf("download does not say it tightened %s:\n%s", caKey, got)
	}
	// sa.pub is public: a 0644 one is left alone.
	pub := filepath.Join(dir, "sa.pub")
	if err := os.Chmod(pub, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := download(cs, dir, key, nil); err != nil {
		t.Fatalf("download: %v\n%s", err, out)
	}
	if fi, err := os.Stat(pub); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("%s: %v %v, want 0644 kept", pub, fi.Mode(), err)
	}
}

// TestDownloadRefusesForeignLeaves: leaf certificates of another cluster
// left in the folder (apiserver.crt, etcd/server.crt) were ignored: the
// download wrote the cluster's CAs beside them, and `init-phase certs`
// failed afterwards on a certificate its CA did not sign. They are refused
// as the CA files are, with every conflicting file (and the leaves' keys)
// named, and nothing is written. The cluster's own leaves (a node that
// joins again) are fine.
func TestDownloadRefusesForeignLeaves(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	other := pkitest.NewNode(t, nil)
	cs := fake.NewClientset()
	key := testKey(t)
	upload(t, cs, n.CertDir(), key)

	parent := t.TempDir()
	dir := filepath.Join(parent, "pki")
	for _, f := range []string{"apiserver.crt", "apiserver.key", "etcd/server.crt", "front-proxy-client.crt"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		copyFile(t, filepath.Join(other.CertDir(), f), filepath.Join(dir, f))
	}
	copyFile(t, filepath.Join(other.CertDir(), "ca.crt"), filepath.Join(dir, "ca.crt"))
	before := treetest.Snapshot(t, dir)
	out, err := download(cs, dir, key, nil)
	treetest.ErrMentions(t, err, filepath.Join(dir, "ca.crt")+" differ from the cluster's",
		filepath.Join(dir, "apiserver.crt"), filepath.Join(dir, "etcd", "server.crt"), filepath.Join(dir, "front-proxy-client.crt"),
		"not signed by the cluster's CAs", "nothing was written", filepath.Join(dir, "apiserver.key"))
	treetest.AssertSame(t, before, treetest.Snapshot(t, dir))
	if t.Failed() {
		t.Logf("output:\n%s", out)
	}

	// The leaves alone, without a CA file: still refused.
	if err := os.Remove(filepath.Join(dir, "ca.crt")); err != nil {
		t.Fatal(err)
	}
	_, err = download(cs, dir, key, nil)
	treetest.ErrMentions(t, err, filepath.Join(dir, "apiserver.crt"), "not signed by the cluster's CAs", "nothing was written")
	if _, serr := os.Stat(filepath.Join(dir, "ca.crt")); !os.IsNotExist(serr) {
		t.Errorf("ca.crt written after a refusal (%v)", err)
	}

	// The cluster's own leaves are kept.
	own := filepath.Join(t.TempDir(), "pki")
	for _, f := range []string{"apiserver.crt", "apiserver.key", "etcd/server.crt"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(own, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		copyFile(t, filepath.Join(n.CertDir(), f), filepath.Join(own, f))
	}
	if out, err := download(cs, own, key, nil); err != nil {
		t.Errorf("download beside the cluster's own leaves: %v\n%s", err, out)
	}
}

// TestTransferWarnsOfBadCA: an expired CA, or a CA with a key weaker than
// certctl's policy, went through upload and download without a word. Both
// still go through (a broken cluster is recovered so), with a warning on
// stderr naming the file and what to do.
func TestTransferWarnsOfBadCA(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	// A front-proxy CA with an RSA-1024 key.
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ca := pkitest.SelfSigned(t, weak, &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "front-proxy-ca"},
		NotBefore: pkitest.Made, NotAfter: pkitest.Made.AddDate(10, 0, 0), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature})
	s := pki.Store{Dir: n.CertDir()}
	if err := s.WriteCert("front-proxy-ca", ca); err != nil {
		t.Fatal(err)
	}
	if err := s.WriteKey("front-proxy-ca", weak); err != nil {
		t.Fatal(err)
	}
	later := pkitest.Made.AddDate(11, 0, 0) // every other CA has expired
	at := func() time.Time { return later }
	key := testKey(t)
	cs := fake.NewClientset()

	var out, errOut bytes.Buffer
	if _, err := Upload(context.Background(), cs, Options{CertDir: n.CertDir(), Key: key, Now: at, Rand: rand.Reader, Out: &out, ErrOut: &errOut}); err != nil {
		t.Fatalf("upload: %v\n%s%s", err, out.String(), errOut.String())
	}
	wantWarnings(t, "upload", errOut.String(), filepath.Join(n.CertDir(), "ca.crt"), filepath.Join(n.CertDir(), "front-proxy-ca.crt"))
	if strings.Contains(out.String(), "[warning]") {
		t.Errorf("upload: warnings on stdout:\n%s", out.String())
	}

	out.Reset()
	errOut.Reset()
	dir := filepath.Join(t.TempDir(), "pki")
	if err := Download(context.Background(), cs, Options{CertDir: dir, Key: key, Now: at, Rand: rand.Reader, Out: &out, ErrOut: &errOut}); err != nil {
		t.Fatalf("download: %v\n%s%s", err, out.String(), errOut.String())
	}
	wantWarnings(t, "download", errOut.String(), "ca.crt in secret kube-system/kubeadm-certs", "front-proxy-ca.crt in secret kube-system/kubeadm-certs")
	if _, err := os.Stat(filepath.Join(dir, "front-proxy-ca.key")); err != nil {
		t.Errorf("download did not write the weak CA: %v", err)
	}

	// A sound CA, within its validity: no warning.
	good := pkitest.NewNode(t, nil)
	errOut.Reset()
	if _, err := Upload(context.Background(), fake.NewClientset(), Options{CertDir: good.CertDir(), Key: key, Now: func() time.Time { return pkitest.Made }, Rand: rand.Reader, Out: &out, ErrOut: &errOut}); err != nil {
		t.Fatal(err)
	}
	if errOut.Len() != 0 {
		t.Errorf("upload of sound CAs warns:\n%s", errOut.String())
	}
}

func wantWarnings(t *testing.T, what, got, expired, weak string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(got), "\n")
	find := func(parts ...string) {
		t.Helper()
		for _, l := range lines {
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
	find(expired, "expired at", "certctl ca rotate ca")
	find(weak, "RSA-1024", "certctl ca rotate front-proxy-ca")
}
