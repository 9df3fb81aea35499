package phases

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestExistingKubeconfigSignedByIntermediate: admin.conf as `certs
// import` installs it from an organisation's CA that signs with an issuing
// CA under the root in ca.crt (docs/external-ca.md): the client
// certificate, then the issuing CA, in client-certificate-data, and no
// ca.key on the node. kube-apiserver verifies it through that chain, and
// `init-phase kubeconfig`, run next in kubeadm's external CA mode,
// keeps it. Before, it checked the client certificate alone against
// ca.crt and failed, "not signed by ca.crt: remove the file to make a new
// one", which without ca.key nothing can.
func TestExistingKubeconfigSignedByIntermediate(t *testing.T) {
	e := newTestEnv(t)
	e.mustRun(t, "certs", "ca")
	e.mustRun(t, "kubeconfig", "admin")
	root, _, err := pki.ReadCertFile(e.pki("ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	rootKey, err := pki.ReadKeyFile(e.pki("ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.dir, "admin.conf")
	cfg, err := kubeconfig.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	old, key, err := kubeconfig.ClientCert(cfg)
	if err != nil {
		t.Fatal(err)
	}
	interKey, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	inter := sign(t, &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "issuing CA"},
		NotBefore: fixedNow.Add(-time.Hour), NotAfter: fixedNow.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true}, root, interKey.Public(), rootKey)
	leaf := sign(t, &x509.Certificate{SerialNumber: big.NewInt(3), Subject: old.Subject,
		NotBefore: fixedNow.Add(-time.Hour), NotAfter: fixedNow.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, inter, key.Public(), interKey)
	keyPEM, err := pki.MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	data, err := kubeconfig.SetClientCert(cfg, path, nil, pki.EncodeCerts(leaf, inter), keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(e.pki("ca.key")); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, e.dir)
	e.mustRun(t, "kubeconfig", "admin")
	assertSameTree(t, before, snapshot(t, e.dir))
}

func sign(t *testing.T, tmpl, parent *x509.Certificate, pub any, key any) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
