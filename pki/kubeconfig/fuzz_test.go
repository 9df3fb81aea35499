package kubeconfig

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/certctl/certctl/internal/fuzzseed"
	"github.com/certctl/certctl/pki"
)

// seeds are kubeconfig files as kubeadm and the kubelet write them, and
// the broken shapes a hand edit leaves.
func seeds(t *testing.T) map[string]fuzzseed.Seed {
	t.Helper()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca, err := pki.NewSelfSignedCA(rand.Reader, pki.Profile{Name: "ca", CommonName: "kubernetes", IsCA: true}, key, pki.NewValidity(now, 0, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := pki.Sign(rand.Reader, pki.Profile{Name: "admin", CommonName: "kubernetes-admin", Organization: []string{"kubeadm:cluster-admins"},
		ExtKeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, key.Public(), ca, key, pki.NewValidity(now, 0, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, _ := pki.MarshalPrivateKey(key)
	enc := func(cfg any) []byte {
		b, err := clientcmd.Write(*Build("kubernetes", "https://10.0.0.1:6443", "kubernetes-admin", pki.EncodeCert(ca), pki.EncodeCert(leaf), keyPEM))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	admin := enc(nil)
	kubelet := strings.NewReplacer("client-certificate-data:", "client-certificate: /var/lib/kubelet/pki/kubelet-client-current.pem\n    x-data:",
		"client-key-data:", "client-key: /var/lib/kubelet/pki/kubelet-client-current.pem\n    y-data:").Replace(string(admin))
	return map[string]fuzzseed.Seed{
		"admin.conf":         {admin},
		"kubelet.conf":       {[]byte(kubelet)},
		"no current context": {[]byte(strings.Replace(string(admin), "current-context:", "x-current-context:", 1))},
		"json":               {[]byte(`{"apiVersion":"v1","kind":"Config","clusters":[{"name":"a","cluster":{"server":"https://x"}}],"users":[{"name":"u","user":{"client-certificate-data":"AAAA"}}],"contexts":[{"name":"c","context":{"cluster":"a","user":"u"}}],"current-context":"c"}`)},
		"malformed yaml":     {[]byte("apiVersion: v1\nclusters: {{\n")},
		"empty":              {nil},
		"base64 garbage":     {[]byte(strings.Replace(string(admin), "client-certificate-data: ", "client-certificate-data: !!!", 1))},
		// DER instead of PEM inside the base64, which client-go refuses too.
		"der certificate": {[]byte(strings.Replace(string(admin), base64.StdEncoding.EncodeToString(pki.EncodeCert(leaf)), base64.StdEncoding.EncodeToString(leaf.Raw), 1))},
		// The CA before the client certificate: the key matches the second.
		"ca first": {[]byte(strings.Replace(string(admin), base64.StdEncoding.EncodeToString(pki.EncodeCert(leaf)), base64.StdEncoding.EncodeToString(pki.EncodeCerts(ca, leaf)), 1))},
		// YAML aliases that expand a billion-fold: the YAML reader's
		// alias limit refuses it.
		"alias bomb": {append(append([]byte{}, admin...), []byte("x-lol:\n  a: &a [l,l,l,l,l,l,l,l,l]\n  b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n  c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n  d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n  e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n  f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n  g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n  h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n  i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n")...)},
	}
}

func TestFuzzSeeds(t *testing.T) { fuzzseed.Write(t, "FuzzLoad", seeds(t)) }

// FuzzLoad drives what renewal and check-expiration do with a kubeconfig
// file: load it, find the current context, its embedded client
// certificate, key and CA. Nothing may panic, and a client certificate
// that is returned must parse and have a key.
func FuzzLoad(f *testing.F) {
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "admin.conf")
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := Load(p)
		if err != nil {
			if !strings.Contains(err.Error(), p) {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		_, _, _, _, _ = Current(cfg)
		_, _ = CACerts(cfg)
		cert, key, err := ClientCert(cfg)
		if err != nil {
			return
		}
		if cert == nil || key == nil {
			t.Fatal("ClientCert returned no error and no certificate or key")
		}
		_ = pki.KeyMatches(cert, key)
		if _, err := clientcmd.Write(*cfg); err != nil {
			t.Fatalf("a loaded kubeconfig does not write back: %v", err)
		}
	})
}
