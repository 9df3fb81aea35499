// Package e2e runs certctl's PKI under a real etcd, kube-apiserver and kube-controller-manager
// (internal/testcluster) and checks it with those components, client-go, kubeadm and openssl.
// The binaries come from `make kube-binaries`; the tests fail, never skip, when they are missing.
package e2e

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/testcluster"
)

// testCtx returns a context that ends after d or when the test ends.
func testCtx(t *testing.T, d time.Duration) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// readCert returns the first certificate of the PEM file at path.
func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read certificate: %v", err)
	}
	return parseCertPEM(t, data, path)
}

func parseCertPEM(t *testing.T, data []byte, what string) *x509.Certificate {
	t.Helper()
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		t.Fatalf("parse %s: no PEM CERTIFICATE block", what)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("parse %s: %v", what, err)
	}
	return cert
}

// certPool returns a pool holding the certificates of the PEM file at path.
func certPool(t *testing.T, path string) *x509.CertPool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read CA: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		t.Fatalf("read CA %s: no certificate", path)
	}
	return pool
}

// clientTLS returns a TLS config that trusts caFile and, if base is not empty, presents
// base.crt/base.key from certctl's PKI folder.
func clientTLS(t *testing.T, c *testcluster.Cluster, caFile, base string) *tls.Config {
	t.Helper()
	cfg := &tls.Config{RootCAs: certPool(t, filepath.Join(c.PKIDir(), caFile)), MinVersion: tls.VersionTLS12}
	if base != "" {
		pair, err := tls.LoadX509KeyPair(filepath.Join(c.PKIDir(), base+".crt"), filepath.Join(c.PKIDir(), base+".key"))
		if err != nil {
			t.Fatalf("load client certificate %s: %v", base, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg
}

// issuer is a CA that a test makes for itself.
type issuer struct {
	cert *x509.Certificate
	key  crypto.Signer
}

// newCA makes a self-signed ECDSA P-256 CA named cn.
func newCA(t *testing.T, cn string) issuer {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate CA key: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatalf("create CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse CA certificate: %v", err)
	}
	return issuer{cert: cert, key: key}
}

// clientCert issues a client certificate for subject and returns it as a tls.Certificate.
func (ca issuer) clientCert(t *testing.T, subject pkix.Name) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate client key: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      subject,
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatalf("create client certificate: %v", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// loadIssuer reads a CA certificate and key from certctl's PKI folder (e.g. "front-proxy-ca").
func loadIssuer(t *testing.T, c *testcluster.Cluster, base string) issuer {
	t.Helper()
	pair, err := tls.LoadX509KeyPair(filepath.Join(c.PKIDir(), base+".crt"), filepath.Join(c.PKIDir(), base+".key"))
	if err != nil {
		t.Fatalf("load CA %s: %v", base, err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatalf("parse CA %s: %v", base, err)
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		t.Fatalf("load CA %s: key of type %T cannot sign", base, pair.PrivateKey)
	}
	return issuer{cert: cert, key: signer}
}

// alwaysPresent makes a TLS client present cert whatever CAs the server asks for. By default Go's
// client sends only a certificate from one of the CAs the server names in its CertificateRequest,
// and would send none at all where a test wants the server to see, and refuse, a foreign one.
func alwaysPresent(cert tls.Certificate) func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
	return func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
}
