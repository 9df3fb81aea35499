package kubeclient

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/pkitest"
)

// TestServerCA: the CA a kubeconfig verifies the API server with, which
// certs upload and download compare the cluster's CA with when they may
// not read kube-root-ca.crt (a bootstrap token): its
// certificate-authority-data, else the file its certificate-authority
// names (relative to the kubeconfig, as client-go reads it); none, said
// why, when it skips the verification or names no CA.
func TestServerCA(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	ca, err := os.ReadFile(filepath.Join(n.CertDir(), "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cluster-ca.pem"), ca, 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "bootstrap.conf")
	source := "kubeconfig " + path
	for _, tc := range []struct {
		name    string
		cluster clientcmdapi.Cluster
		pem     []byte
		from    string
	}{
		{"certificate-authority-data", clientcmdapi.Cluster{CertificateAuthorityData: ca}, ca, "the certificate-authority-data of " + source},
		{"certificate-authority", clientcmdapi.Cluster{CertificateAuthority: "cluster-ca.pem"}, ca, "the certificate-authority " + filepath.Join(dir, "cluster-ca.pem") + " of " + source},
		{"insecure-skip-tls-verify", clientcmdapi.Cluster{InsecureSkipTLSVerify: true}, nil, source + " skips the verification of the API server's certificate (insecure-skip-tls-verify)"},
		{"no CA", clientcmdapi.Cluster{}, nil, source + " names no CA (the system's roots verify the API server)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cluster := tc.cluster
			cluster.Server = "https://192.0.2.7:6443"
			cfg := clientcmdapi.Config{
				Clusters:       map[string]*clientcmdapi.Cluster{"kubernetes": &cluster},
				AuthInfos:      map[string]*clientcmdapi.AuthInfo{"bootstrap": {Token: "abcdef.0123456789abcdef"}},
				Contexts:       map[string]*clientcmdapi.Context{"bootstrap": {Cluster: "kubernetes", AuthInfo: "bootstrap"}},
				CurrentContext: "bootstrap",
			}
			if err := clientcmd.WriteToFile(cfg, path); err != nil {
				t.Fatal(err)
			}
			c, err := New(Options{Kubeconfig: path})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.ServerCA()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.PEM, tc.pem) || got.From != tc.from {
				t.Errorf("ServerCA() = %d bytes from %q, want %d bytes from %q", len(got.PEM), got.From, len(tc.pem), tc.from)
			}
		})
	}
}
