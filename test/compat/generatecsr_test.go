package compat

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io/fs"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/keyutil"
)

// TestImportKubeadmGenerateCSR: the external CA flow with kubeadm's own
// command, as kubeadm's documentation gives it. kubeadm v1.37 makes the
// CAs, their keys go to the external CA, `kubeadm certs generate-csr`
// writes keys and CSRs into the certificate folder and key-only
// kubeconfigs (no CA data) into the kubeconfig folder, the CA signs
// NAME.crt beside each CSR, `certctl certs import` installs them from
// both folders. kubeadm's kubeconfig phase, which checks every kubeconfig
// of an external-CA node, must then accept them: certctl used to leave
// them without certificate-authority-data ("contains an invalid CA cert").
func TestImportKubeadmGenerateCSR(t *testing.T) {
	certctl, kubeadm := binaries(t)
	dir := t.TempDir()
	certDir := filepath.Join(dir, "pki")
	cfgPath := writeConfig(t, minimalConfig, certDir, "ECDSA-P256")
	for _, ca := range []string{"ca", "front-proxy-ca", "etcd-ca"} {
		if out, err := run("kubeadm", kubeadm, "certs", ca, "--config", cfgPath); err != nil {
			t.Fatalf("kubeadm init phase certs %s: %v\n%s", ca, err, out)
		}
	}
	cas := map[string]*testCA{}
	for _, base := range []string{"ca", "front-proxy-ca", "etcd/ca"} {
		cas[base] = takeCAKey(t, certDir, base)
	}
	out, err := runTool(kubeadm, "certs", "generate-csr", "--config", cfgPath, "--kubeconfig-dir", dir)
	if err != nil {
		t.Fatalf("kubeadm certs generate-csr: %v\n%s", err, out)
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".csr") {
			rel, _ := filepath.Rel(dir, p)
			signAsKubeadm(t, p, filepath.ToSlash(rel), cas)
		}
		return nil
	})
	for _, csrDir := range []string{certDir, dir} {
		if out, err := runTool(certctl, "certs", "import", "--csr-dir", csrDir, "--cert-dir", certDir, "--kubeconfig-dir", dir); err != nil {
			t.Fatalf("certctl certs import --csr-dir %s: %v\n%s", csrDir, err, out)
		}
	}
	caPEM, err := os.ReadFile(filepath.Join(certDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"admin.conf", "super-admin.conf", "kubelet.conf", "controller-manager.conf", "scheduler.conf"} {
		cfg, err := clientcmd.LoadFromFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		cluster := cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster]
		if string(cluster.CertificateAuthorityData) != string(caPEM) {
			t.Errorf("%s: certificate-authority-data %q, want ca.crt's", name, cluster.CertificateAuthorityData)
		}
	}
	if out, err := run("kubeadm", kubeadm, "kubeconfig", "all", "--config", cfgPath, "--kubeconfig-dir", dir); err != nil {
		t.Errorf("kubeadm init phase kubeconfig all refuses what certctl imported: %v\n%s", err, out)
	}
}

type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// takeCAKey reads the CA BASE of certDir and removes its key, as an
// external CA keeps it.
func takeCAKey(t *testing.T, certDir, base string) *testCA {
	t.Helper()
	certPEM, err := os.ReadFile(filepath.Join(certDir, base+".crt"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	keyPath := filepath.Join(certDir, base+".key")
	key, err := keyutil.PrivateKeyFromFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(keyPath); err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key.(crypto.Signer)}
}

// signAsKubeadm signs the CSR at path (rel under the kubeconfig folder)
// with the CA and usages kubeadm gives that certificate, into the .crt
// beside it.
func signAsKubeadm(t *testing.T, path, rel string, cas map[string]*testCA) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	ca, eku := cas["ca"], []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	switch {
	case rel == "pki/front-proxy-client.csr":
		ca = cas["front-proxy-ca"]
	case rel == "pki/apiserver.csr":
		eku = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	case rel == "pki/etcd/server.csr", rel == "pki/etcd/peer.csr":
		ca, eku = cas["etcd/ca"], []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	case strings.HasPrefix(rel, "pki/etcd/"), rel == "pki/apiserver-etcd-client.csr":
		ca = cas["etcd/ca"]
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()), Subject: csr.Subject,
		DNSNames: csr.DNSNames, IPAddresses: csr.IPAddresses,
		NotBefore: now.Add(-5 * time.Minute), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: eku,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, csr.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	crt := strings.TrimSuffix(path, ".csr") + ".crt"
	if err := os.WriteFile(crt, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
}

// runTool runs bin with args, outside `init phase`.
func runTool(bin string, args ...string) ([]byte, error) {
	return exec.Command(bin, args...).CombinedOutput()
}

// TestImportKubeadmGenerateCSRStaged: kubeadm's documented example,
// `kubeadm certs generate-csr --kubeconfig-dir DIR --cert-dir DIR/pki`,
// into a staging folder, whose one `certctl certs import --csr-dir DIR`
// installs every certificate and kubeconfig file into the node's folders.
// It used to install the kubeconfig files only and exit 0, the
// certificates of DIR/pki "ignored: not a certificate of the inventory".
func TestImportKubeadmGenerateCSRStaged(t *testing.T) {
	certctl, kubeadm := binaries(t)
	node, staging := t.TempDir(), t.TempDir()
	certDir := filepath.Join(node, "pki")
	cfgPath := writeConfig(t, minimalConfig, certDir, "ECDSA-P256")
	for _, ca := range []string{"ca", "front-proxy-ca", "etcd-ca"} {
		if out, err := run("kubeadm", kubeadm, "certs", ca, "--config", cfgPath); err != nil {
			t.Fatalf("kubeadm init phase certs %s: %v\n%s", ca, err, out)
		}
	}
	cas := map[string]*testCA{}
	for _, base := range []string{"ca", "front-proxy-ca", "etcd/ca"} {
		cas[base] = takeCAKey(t, certDir, base)
	}
	// generate-csr reads the CA certificates in --cert-dir.
	if out, err := runTool("cp", "-r", certDir, filepath.Join(staging, "pki")); err != nil {
		t.Fatalf("cp: %v\n%s", err, out)
	}
	if out, err := runTool(kubeadm, "certs", "generate-csr", "--config", cfgPath, "--kubeconfig-dir", staging, "--cert-dir", filepath.Join(staging, "pki")); err != nil {
		t.Fatalf("kubeadm certs generate-csr: %v\n%s", err, out)
	}
	filepath.WalkDir(staging, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".csr") {
			rel, _ := filepath.Rel(staging, p)
			signAsKubeadm(t, p, filepath.ToSlash(rel), cas)
		}
		return nil
	})
	out, err := runTool(certctl, "certs", "import", "--csr-dir", staging, "--cert-dir", certDir, "--kubeconfig-dir", node)
	if err != nil {
		t.Fatalf("certctl certs import --csr-dir %s: %v\n%s", staging, err, out)
	}
	if strings.Contains(string(out), "ignored") {
		t.Errorf("certctl certs import ignored files:\n%s", out)
	}
	for _, f := range []string{"apiserver.crt", "apiserver.key", "apiserver-kubelet-client.crt", "front-proxy-client.crt", "apiserver-etcd-client.crt", "etcd/server.crt", "etcd/peer.crt", "etcd/healthcheck-client.crt"} {
		if _, err := os.Stat(filepath.Join(certDir, f)); err != nil {
			t.Errorf("not installed: %v", err)
		}
	}
	if out, err := run("kubeadm", kubeadm, "kubeconfig", "all", "--config", cfgPath, "--kubeconfig-dir", node); err != nil {
		t.Errorf("kubeadm init phase kubeconfig all refuses what certctl imported: %v\n%s", err, out)
	}
}
