package phases

import (
	"crypto/rand"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestKubeconfigCarriesTheWholeCABundle: during a CA rotation ca.crt holds
// two certificates (the one ca.key matches first, docs/ca-rotation.md), and
// every kubeconfig's certificate-authority-data must hold both, in that
// order: the rotation's next stage refuses while a kubeconfig trusts the
// first alone. `init-phase kubeconfig` (and its --use-csr variant, whose
// kubeconfig is installed by `certs import`) embedded only the first
// certificate, so a kubeconfig written again mid-rotation blocked reissue
// until it was renewed.
func TestKubeconfigCarriesTheWholeCABundle(t *testing.T) {
	for _, useCSR := range []bool{false, true} {
		name := "signed"
		if useCSR {
			name = "use-csr"
		}
		t.Run(name, func(t *testing.T) {
			e := newTestEnv(t)
			e.mustRun(t, "certs", "ca")
			bundle := appendSecondCA(t, e)
			path := filepath.Join(e.dir, "admin.conf")
			if useCSR {
				e.UseCSR = true
				e.CSRDir = filepath.Join(e.dir, "csr")
				path = filepath.Join(e.CSRDir, "admin.conf")
			}
			e.mustRun(t, "kubeconfig", "admin")
			cfg, err := kubeconfig.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := kubeconfig.CACerts(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(bundle) {
				t.Fatalf("%s: certificate-authority-data holds %d certificates, ca.crt %d", path, len(got), len(bundle))
			}
			for i := range got {
				if !got[i].Equal(bundle[i]) {
					t.Errorf("%s: certificate %d of certificate-authority-data is not certificate %d of ca.crt", path, i, i)
				}
			}
			if !useCSR {
				// The kubeconfig just written is accepted as it is by a re-run.
				before := snapshot(t, e.dir)
				e.mustRun(t, "kubeconfig", "admin")
				assertSameTree(t, before, snapshot(t, e.dir))
			}
		})
	}
}

// appendSecondCA appends a second CA certificate to ca.crt, as stage trust
// of a rotation leaves it (the old CA, which ca.key matches, then the new),
// and returns the bundle.
func appendSecondCA(t *testing.T, e *testEnv) []*x509.Certificate {
	t.Helper()
	ca, _, err := pki.ReadCertFile(e.pki("ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := pki.GenerateKey(rand.Reader, pki.ECDSAP256)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := pki.Find(pki.Kubeadm().Certificates(mustNode(t, e)), "ca")
	if !ok {
		t.Fatal("no ca profile")
	}
	next, err := pki.NewSelfSignedCA(rand.Reader, p, key, pki.Validity{NotBefore: ca.NotBefore, NotAfter: ca.NotAfter})
	if err != nil {
		t.Fatal(err)
	}
	data := append(pki.EncodeCert(ca), pki.EncodeCert(next)...)
	if err := os.WriteFile(e.pki("ca.crt"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return []*x509.Certificate{ca, next}
}

func mustNode(t *testing.T, e *testEnv) pki.Node {
	t.Helper()
	n, err := e.Cluster.Node()
	if err != nil {
		t.Fatal(err)
	}
	return n
}
