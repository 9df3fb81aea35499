package phases

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestExistingKubeconfigTrustsRootOfCAFile: an organisation's CA signs
// with an issuing CA, so ca.crt holds the issuing CA and then the root,
// and admin.conf, provided with the external CA's certificates, trusts the
// root alone. kubeadm v1.37 keeps it (its external CA mode accepts a
// kubeconfig whose CA is any certificate of ca.crt); init-phase refused
// it, "made for another CA than ca.crt: remove it to make a new one",
// which without ca.key nothing can. A file trusting the root whose
// client certificate the issuing CA did not sign is still refused.
func TestExistingKubeconfigTrustsRootOfCAFile(t *testing.T) {
	for _, tc := range []struct {
		name      string
		noCAKey   bool
		otherUser bool
		want      []string // none: kept
	}{
		{name: "external CA", noCAKey: true},
		{name: "CA key on the node", noCAKey: false},
		{name: "client certificate of another CA", noCAKey: true, otherUser: true,
			want: []string{"admin.conf", "another CA than"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newTestEnv(t)
			root, rootKey := testCA(t, "root-ca", nil, nil)
			inter, interKey := testCA(t, "kubernetes", root, rootKey)
			if err := os.MkdirAll(e.Cluster.CertificatesDir, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, e.pki("ca.crt"), string(pki.EncodeCerts(inter, root)))
			keyPEM, err := pki.MarshalPrivateKey(interKey)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, e.pki("ca.key"), string(keyPEM))
			e.mustRun(t, "kubeconfig", "admin")
			path := filepath.Join(e.dir, "admin.conf")
			cfg, err := kubeconfig.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			_, cluster, _, user, err := kubeconfig.Current(cfg)
			if err != nil {
				t.Fatal(err)
			}
			cluster.CertificateAuthorityData = pki.EncodeCert(root)
			if tc.otherUser {
				other, otherKey := testCA(t, "kubernetes", root, rootKey)
				old, key, err := kubeconfig.ClientCert(cfg)
				if err != nil {
					t.Fatal(err)
				}
				user.ClientCertificateData = pki.EncodeCert(sign(t, old, other, key.Public(), otherKey))
			}
			writeKubeconfig(t, path, cfg)
			if tc.noCAKey {
				removeAll(t, e.pki("ca.key"))
			}
			before := snapshot(t, e.dir)
			err = e.run(t, "kubeconfig", "admin")
			if tc.want == nil {
				if err != nil {
					t.Fatalf("kubeconfig admin: %v\n%s", err, e.out)
				}
			} else {
				treetest.ErrMentions(t, err, tc.want...)
			}
			assertSameTree(t, before, snapshot(t, e.dir))
		})
	}
}

// testCA makes a CA named cn, signed by parent's key parentKey, or
// self-signed when parent is nil.
func testCA(t *testing.T, cn string, parent *x509.Certificate, parentKey any) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: fixedNow.Add(-time.Hour), NotAfter: fixedNow.Add(10 * 365 * 24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature, BasicConstraintsValid: true, IsCA: true}
	if parent == nil {
		return sign(t, tmpl, tmpl, key.Public(), key), key
	}
	return sign(t, tmpl, parent, key.Public(), parentKey), key
}

func writeKubeconfig(t *testing.T, path string, cfg *clientcmdapi.Config) {
	t.Helper()
	if err := kubeconfig.Write(path, cfg); err != nil {
		t.Fatal(err)
	}
}
