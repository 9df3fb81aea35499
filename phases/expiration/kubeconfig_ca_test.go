package expiration

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"strings"
	"testing"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestKubeconfigCAData: a kubeconfig whose certificate-authority-data is
// not the cluster CA (left over from another cluster, or a CA rotation done
// by hand) makes its component reject the API server's certificate, yet
// check-expiration reported nothing. It is now a ca-data-mismatch
// problem that names the file and the command that rewrites it.
func TestKubeconfigCAData(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	cfg, err := kubeconfig.Load(n.Path("scheduler.conf"))
	if err != nil {
		t.Fatal(err)
	}
	other, err := os.ReadFile(n.Path("pki/front-proxy-ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.CertificateAuthorityData = other
	}
	if err := kubeconfig.Write(n.Path("scheduler.conf"), cfg); err != nil {
		t.Fatal(err)
	}
	info := check(t, n, nil)
	for _, c := range info.Certificates {
		switch {
		case c.Name == "scheduler.conf":
			if len(c.Problems) != 1 || c.Problems[0].Type != CADataMismatch || !strings.Contains(c.Problems[0].Message, n.Path("scheduler.conf")) ||
				!strings.Contains(c.Problems[0].Message, "certctl renew scheduler.conf") {
				t.Errorf("scheduler.conf trusting another CA: problems %+v, want one %s naming it and the renew command", c.Problems, CADataMismatch)
			}
		case len(c.Problems) > 0:
			t.Errorf("%s: problems %+v", c.Name, c.Problems)
		}
	}
}

// TestKubeconfigCADataConfigFlag: checked with --config, whose
// certificatesDir names the certificate folder, the renew command printed
// for ca-data-mismatch lacked --config: run as printed, it renewed from
// another folder.
func TestKubeconfigCADataConfigFlag(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	cfg, err := kubeconfig.Load(n.Path("admin.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.CertificateAuthorityData = must(os.ReadFile(n.Path("pki/front-proxy-ca.crt")))
	}
	if err := kubeconfig.Write(n.Path("admin.conf"), cfg); err != nil {
		t.Fatal(err)
	}
	info := check(t, n, func(o *Options) { o.ConfigFile, o.FolderFlags = "/srv/kubeadm.yaml", " --kubeconfig-dir "+n.Dir })
	want := "`certctl renew admin.conf --config /srv/kubeadm.yaml --kubeconfig-dir " + n.Dir + "`"
	if p := info.Problems(); len(p) != 1 || !strings.Contains(p[0], want) {
		t.Errorf("problems %q, want one saying %s", p, want)
	}
}

// TestKubeconfigCADataRoot: an external CA whose ca.crt is an intermediate
// and a kubeconfig that trusts its root: clients verify the API server
// through the intermediate it serves, so that is no ca-data-mismatch.
func TestKubeconfigCADataRoot(t *testing.T) {
	n := pkitest.NewNode(t, nil)
	ca, caKey := n.CA(t, "ca")
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	root := pkitest.SelfSigned(t, rootKey, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "root"},
		NotBefore: ca.NotBefore, NotAfter: ca.NotAfter, IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign})
	der, err := x509.CreateCertificate(rand.Reader, ca, root, caKey.Public(), rootKey)
	if err != nil {
		t.Fatal(err)
	}
	inter, _ := x509.ParseCertificate(der)
	if err := os.WriteFile(n.Path("pki/ca.crt"), pki.EncodeCert(inter), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := kubeconfig.Load(n.Path("scheduler.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.CertificateAuthorityData = pki.EncodeCert(root)
	}
	if err := kubeconfig.Write(n.Path("scheduler.conf"), cfg); err != nil {
		t.Fatal(err)
	}
	if p := check(t, n, nil).Problems(); len(p) > 0 {
		t.Errorf("kubeconfig trusting the root of the intermediate ca.crt: problems %q", p)
	}
}
