package external

import (
	"crypto/x509"
	"fmt"
	"os"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// readCSR reads and checks a PEM CSR file.
func readCSR(path string) (*x509.CertificateRequest, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read certificate request %s: %w", path, err)
	}
	r, err := pki.ParseCSR(data)
	if err != nil {
		return nil, fmt.Errorf("parse certificate request %s: %w", path, err)
	}
	return r, nil
}

// fillKubeconfig returns base (the kubeconfig being replaced, or for a
// first installation the CSR folder's) with, in its current context, the
// user's client certificate and key set to certPEM and keyPEM, and the
// cluster's CA data set to caPEM, as renewal refreshes it; a cluster that
// names a CA file keeps it. Every other field is kept. A user that refers
// to certificate files is refused: certctl replaces embedded certificates
// only, atomically with their key.
func fillKubeconfig(cfg *clientcmdapi.Config, path string, caPEM, certPEM, keyPEM []byte) ([]byte, error) {
	_, cluster, userName, user, err := kubeconfig.Current(cfg)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	if user.ClientCertificate != "" || user.ClientKey != "" {
		return nil, fmt.Errorf("kubeconfig %s: user %q refers to certificate files (client-certificate, client-key): certctl installs embedded client certificates only", path, userName)
	}
	if cluster.Server == "" {
		return nil, fmt.Errorf("kubeconfig %s: its cluster has no server", path)
	}
	return kubeconfig.SetClientCert(cfg, path, caPEM, certPEM, keyPEM)
}
