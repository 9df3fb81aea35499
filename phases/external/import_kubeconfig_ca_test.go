package external

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/pkitest"
	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/phases/config"
	"github.com/certctl/certctl/phases/renewal"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestImportKubeconfigCAData: kubeadm's kubeconfigs always embed the CA.
// A kubeconfig certs import installs for the first time (the key-only one
// `kubeadm certs generate-csr --kubeconfig-dir` writes) gets ca.crt's CA
// data, also over another CA's; but one whose cluster skips TLS
// verification or names a CA file was installed as it was, so that its
// clients did not check the API server against ca.crt (SetClientCert
// keeps those fields). It is refused now, in one line naming the file and
// the kubectl command that fixes it, and nothing is written. A file in
// force that its user left without CA data (a load balancer the system
// roots verify, insecure-skip-tls-verify) keeps none, as renew keeps it
// (docs/renew.md).
func TestImportKubeconfigCAData(t *testing.T) {
	other := newIssuer(t, "other CA")
	for _, tc := range []struct {
		name    string
		inForce bool // admin.conf has a client certificate already; else key only
		own     bool // the CSR folder's kubeconfig, with none in the kubeconfig folder
		edit    func(c *clientcmdapi.Cluster)
		refused []string // what the reason says; nil: imported
		wantCA  string   // after the import: "ca.crt", "none"
	}{
		{"key-only, kubeadm's: no CA data", false, false, func(c *clientcmdapi.Cluster) { c.CertificateAuthorityData = nil }, nil, "ca.crt"},
		{"key-only, another CA's data", false, false, func(c *clientcmdapi.Cluster) { c.CertificateAuthorityData = pki.EncodeCert(other.cert) }, nil, "ca.crt"},
		{"key-only, insecure-skip-tls-verify", false, false, func(c *clientcmdapi.Cluster) { c.CertificateAuthorityData, c.InsecureSkipTLSVerify = nil, true },
			[]string{"cannot install into KC: kubeconfig KC: its cluster \"kubernetes\" skips TLS verification (insecure-skip-tls-verify)", "embeds ca.crt's CA data", "config set-cluster kubernetes --insecure-skip-tls-verify=false"}, ""},
		{"the CSR folder's, insecure-skip-tls-verify", false, true, func(c *clientcmdapi.Cluster) { c.CertificateAuthorityData, c.InsecureSkipTLSVerify = nil, true },
			[]string{"cannot install into KCDIR/admin.conf: kubeconfig CSRDIR/admin.conf: its cluster \"kubernetes\" skips TLS verification (insecure-skip-tls-verify)"}, ""},
		{"the CSR folder's, no CA data", false, true, func(c *clientcmdapi.Cluster) { c.CertificateAuthorityData = nil }, nil, "ca.crt"},
		{"key-only, a CA file", false, false, func(c *clientcmdapi.Cluster) { c.CertificateAuthorityData, c.CertificateAuthority = nil, "/tmp/ca.pem" },
			[]string{"cannot install into KC: kubeconfig KC: its cluster \"kubernetes\" names the CA file /tmp/ca.pem (certificate-authority)", "config unset clusters.kubernetes.certificate-authority"}, ""},
		{"in force, another CA's data", true, false, func(c *clientcmdapi.Cluster) { c.CertificateAuthorityData = pki.EncodeCert(other.cert) }, nil, "ca.crt"},
		{"in force, system roots", true, false, func(c *clientcmdapi.Cluster) { c.CertificateAuthorityData = nil }, nil, "none"},
		{"in force, insecure-skip-tls-verify", true, false, func(c *clientcmdapi.Cluster) { c.CertificateAuthorityData, c.InsecureSkipTLSVerify = nil, true }, nil, "none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
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
			admin := pki.Kubeadm().Kubeconfigs(node)[0]
			kubeconfigFor := func(key crypto.Signer, certPEM []byte) *clientcmdapi.Config {
				keyPEM, err := pki.MarshalPrivateKey(key)
				if err != nil {
					t.Fatal(err)
				}
				return kubeconfig.Build("kubernetes", "https://cp.example:6443", admin.CommonName, pki.EncodeCert(ca.cert), certPEM, keyPEM)
			}
			// The CSR folder: the key-only kubeconfig of `kubeadm certs
			// generate-csr --kubeconfig-dir`, its CSR and the signed certificate.
			key, _ := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
			if err := kubeconfig.Write(filepath.Join(dir, "admin.conf"), kubeconfigFor(key, nil)); err != nil {
				t.Fatal(err)
			}
			csr, _ := pki.NewCSR(rand.Reader, admin.Profile, key)
			if err := (pki.Store{Dir: dir}).WriteCSR("admin.conf", csr); err != nil {
				t.Fatal(err)
			}
			signCSR(t, filepath.Join(dir, "admin.conf.csr"), filepath.Join(dir, "admin.conf.crt"), x509.KeyUsageDigitalSignature,
				[]x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil, ca)
			kcDir := dir // kubeadm's layout: the key-only file is installed into
			if tc.own {
				kcDir = filepath.Join(dir, "kc")
				if err := os.Mkdir(kcDir, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			if tc.inForce {
				// admin.conf in force, with a client certificate of an earlier key.
				kcDir = filepath.Join(dir, "kc")
				old := t.TempDir()
				oldKey, _ := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
				oldCSR, _ := pki.NewCSR(rand.Reader, admin.Profile, oldKey)
				if err := (pki.Store{Dir: old}).WriteCSR("admin", oldCSR); err != nil {
					t.Fatal(err)
				}
				signCSR(t, filepath.Join(old, "admin.csr"), filepath.Join(old, "admin.crt"), x509.KeyUsageDigitalSignature,
					[]x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, nil, ca)
				if err := os.Mkdir(kcDir, 0o700); err != nil {
					t.Fatal(err)
				}
				if err := kubeconfig.Write(filepath.Join(kcDir, "admin.conf"), kubeconfigFor(oldKey, read(t, filepath.Join(old, "admin.crt")))); err != nil {
					t.Fatal(err)
				}
			}
			path := filepath.Join(kcDir, "admin.conf")
			edited := path
			if tc.own {
				edited = filepath.Join(dir, "admin.conf")
			}
			pkitest.EditKubeconfig(t, edited, func(cfg *clientcmdapi.Config) { tc.edit(cfg.Clusters["kubernetes"]) })
			before := treetest.Snapshot(t, dir)
			res, err := Import(context.Background(), ImportOptions{CSRDir: dir, Options: renewal.Options{CertDir: c.CertificatesDir, KubeconfigDir: kcDir, Now: clock, Rand: rand.Reader}})
			if err != nil {
				t.Fatal(err)
			}
			if tc.refused != nil {
				if len(res.Refused) != 1 || len(res.Imported) != 0 {
					t.Fatalf("refused %v, imported %v: want admin.conf refused", res.Refused, res.Imported)
				}
				reason := res.Refused[0].Reason
				for _, w := range tc.refused {
					assertMentions(t, reason, strings.NewReplacer("KCDIR", kcDir, "CSRDIR", dir, "KC", path).Replace(w))
				}
				if strings.Contains(reason, "\n") {
					t.Errorf("reason on several lines: %q", reason)
				}
				treetest.AssertSame(t, before, treetest.Snapshot(t, dir))
				return
			}
			if len(res.Imported) != 1 || len(res.Refused) != 0 {
				t.Fatalf("imported %v, refused %v: want admin.conf", res.Imported, res.Refused)
			}
			cfg, err := kubeconfig.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			cacerts, err := kubeconfig.CACerts(cfg)
			switch tc.wantCA {
			case "ca.crt":
				if err != nil || len(cacerts) != 1 || !cacerts[0].Equal(ca.cert) {
					t.Errorf("admin.conf CA data: %v, want ca.crt's", err)
				}
			case "none":
				if err == nil {
					t.Errorf("admin.conf got CA data, want none, as its user left it")
				}
			}
		})
	}
}
