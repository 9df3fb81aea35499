package external

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"os"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// writeKeyOnlyKubeconfig writes at path a kubeconfig that points where the
// one at current does (its cluster's name and server, its user's name) and
// holds key and nothing else: no client certificate and no CA, as
// `kubeadm certs generate-csr` writes one. Import fills in both.
func writeKeyOnlyKubeconfig(path, current string, key crypto.Signer) error {
	cfg, err := kubeconfig.Load(current)
	if err != nil {
		return err
	}
	clusterName, cluster, userName, _, err := kubeconfig.Current(cfg)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", current, err)
	}
	keyPEM, err := pki.MarshalPrivateKey(key)
	if err != nil {
		return err
	}
	return kubeconfig.Write(path, kubeconfig.Build(clusterName, cluster.Server, userName, nil, nil, keyPEM))
}

// readCSRKey reads the new key of a target from the CSR folder: a key
// file, or a kubeconfig's client-key-data.
func readCSRKey(kubeconfigTarget bool, path string) (crypto.Signer, error) {
	if !kubeconfigTarget {
		return pki.ReadKeyFile(path)
	}
	_, user, err := loadCSRKubeconfig(path)
	if err != nil {
		return nil, err
	}
	if len(user.ClientKeyData) == 0 {
		return nil, fmt.Errorf("kubeconfig %s holds no client-key-data", path)
	}
	key, err := pki.ParsePrivateKey(user.ClientKeyData)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s client-key-data: %w", path, err)
	}
	return key, nil
}

// loadCSRKubeconfig loads a kubeconfig of the CSR folder and its current
// user.
func loadCSRKubeconfig(path string) (*clientcmdapi.Config, *clientcmdapi.AuthInfo, error) {
	cfg, err := kubeconfig.Load(path)
	if err != nil {
		return nil, nil, err
	}
	_, _, _, user, err := kubeconfig.Current(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return cfg, user, nil
}

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
