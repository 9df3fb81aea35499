package kubeconfig

import (
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/pki"
)

// TestCACertsRelativeFile: a cluster's certificate-authority that is a
// relative path (kubectl config set-cluster writes it as given) is read
// beside the kubeconfig, as kubectl reads it, not in the working folder.
func TestCACertsRelativeFile(t *testing.T) {
	dir := t.TempDir()
	key, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	ca, err := pki.NewSelfSignedCA(rand.Reader, pki.Profile{Name: "ca", CommonName: "kubernetes", IsCA: true}, key, pki.NewValidity(now, 0, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "pki"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pki", "ca.crt"), pki.EncodeCert(ca), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["kubernetes"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:6443", CertificateAuthority: "pki/ca.crt"}
	cfg.AuthInfos["admin"] = &clientcmdapi.AuthInfo{Token: "t"}
	cfg.Contexts["admin"] = &clientcmdapi.Context{Cluster: "kubernetes", AuthInfo: "admin"}
	cfg.CurrentContext = "admin"
	path := filepath.Join(dir, "admin.conf")
	if err := Write(path, cfg); err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir())
	loaded, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := CACerts(loaded)
	if err != nil || len(got) != 1 || !got[0].Equal(ca) {
		t.Errorf("CACerts of %s (certificate-authority: pki/ca.crt) from another folder: %d certificates, %v; want the CA beside it", path, len(got), err)
	}
}
