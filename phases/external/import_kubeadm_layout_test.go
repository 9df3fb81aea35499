package external

import (
	"context"
	"crypto/rand"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestImportKubeadmLayoutGetsCAData: `kubeadm certs generate-csr
// --kubeconfig-dir DIR` writes admin.conf into the kubeconfig folder
// itself, holding only the key (no client certificate, no CA data), with
// admin.conf.csr beside it; the CA signs admin.conf.crt and `certctl certs
// import --csr-dir DIR --kubeconfig-dir DIR` installs it. The file was
// left without certificate-authority-data: its clients could not verify
// the API server, and kubeadm's own kubeconfig phase refused it ("contains
// an invalid CA cert"). A first installation gets ca.crt's CA data, as
// when the kubeconfig comes from a CSR folder of its own.
func TestImportKubeadmLayoutGetsCAData(t *testing.T) {
	dir := t.TempDir()
	c := config.Default()
	c.CertificatesDir, c.NodeName, c.AdvertiseAddress = filepath.Join(dir, "pki"), "cp-1", "198.51.100.10"
	ca := newIssuer(t, "kubernetes")
	if err := (pki.Store{Dir: c.CertificatesDir}).WriteCert("ca", ca.cert); err != nil {
		t.Fatal(err)
	}
	node, err := c.Node()
	if err != nil {
		t.Fatal(err)
	}
	key, _ := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	admin := pki.Kubeadm().Kubeconfigs(node)[0]
	keyPEM, _ := pki.MarshalPrivateKey(key)
	path := filepath.Join(dir, "admin.conf")
	if err := kubeconfig.Write(path, kubeconfig.Build("kubernetes", "https://cp.example:6443", admin.CommonName, nil, nil, keyPEM)); err != nil {
		t.Fatal(err)
	}
	csr, _ := pki.NewCSR(rand.Reader, admin.Profile, key)
	if err := (pki.Store{Dir: dir}).WriteCSR("admin.conf", csr); err != nil {
		t.Fatal(err)
	}
	signCSR(t, filepath.Join(dir, "admin.conf.csr"), filepath.Join(dir, "admin.conf.crt"), x509.KeyUsageDigitalSignature,
		[]x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil, ca)

	res, err := Import(context.Background(), ImportOptions{CSRDir: dir, Options: renewal.Options{CertDir: c.CertificatesDir, KubeconfigDir: dir, Now: clock, Rand: rand.Reader}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Imported) != 1 || len(res.Refused) != 0 {
		t.Fatalf("imported %v, refused %v: want admin.conf", res.Imported, res.Refused)
	}
	cfg, err := kubeconfig.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if cert, k, err := kubeconfig.ClientCert(cfg); err != nil || pki.KeyMatches(cert, k) != nil {
		t.Errorf("admin.conf client certificate: %v", err)
	}
	if cacerts, err := kubeconfig.CACerts(cfg); err != nil || !cacerts[0].Equal(ca.cert) {
		t.Errorf("admin.conf CA data: %v, want ca.crt", err)
	}
}

// TestImportKubeadmLayoutTakesPki: kubeadm's documented external-CA
// layout, `kubeadm certs generate-csr --kubeconfig-dir DIR --cert-dir
// DIR/pki`, has the kubeconfig files' keys and CSRs in DIR and the
// certificates' in DIR/pki. `certctl certs import --csr-dir DIR` installed
// the kubeconfig files only, listed every certificate of DIR/pki as
// "ignored: not a certificate of the inventory" and exited 0: kube-apiserver
// was left without its certificates. It now takes them from DIR/pki.
func TestImportKubeadmLayoutTakesPki(t *testing.T) {
	n := newExtNode(t)
	n.writeCSRs(t, "all")
	n.signAll(t)
	// The certificates' files (all but the kubeconfig files') go to pki/.
	pkiDir := filepath.Join(n.csrDir, "pki")
	entries, err := os.ReadDir(n.csrDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(pkiDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !strings.Contains(e.Name(), ".conf") {
			if err := os.Rename(filepath.Join(n.csrDir, e.Name()), filepath.Join(pkiDir, e.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	res, err := Import(context.Background(), n.importOptions())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Imported) != 11 || len(res.Refused) != 0 || len(res.Ignored) != 0 {
		t.Errorf("imported %d, refused %v, ignored %v: want all 11 from %s and %s", len(res.Imported), res.Refused, res.Ignored, n.csrDir, pkiDir)
	}
	for _, im := range res.Imported {
		if !im.Unchanged && im.Name == "apiserver" && im.From != filepath.Join(pkiDir, "apiserver.crt") {
			t.Errorf("apiserver imported from %s, want %s", im.From, filepath.Join(pkiDir, "apiserver.crt"))
		}
	}
}
