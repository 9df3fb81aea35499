package phases

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/internal/treetest"
	"github.com/certctl/certctl/pki"
	"github.com/certctl/certctl/pki/kubeconfig"
)

// TestWeakKeysRefused: init-phase applies the issuance policy's key rule
// (pki/policy.Key), as renew --reuse-key, certs import and the signer do,
// to the keys it finds: it signs no certificate for a weak key left
// without its certificate, makes no CA certificate for a weak CA key, and
// keeps no existing certificate or kubeconfig with a weak key. Each is one
// line naming the file and what to do, and nothing is written.
func TestWeakKeysRefused(t *testing.T) {
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	weakPEM, err := pki.MarshalPrivateKey(weak)
	if err != nil {
		t.Fatal(err)
	}
	// signWeak writes a certificate for the weak key, signed by the CA, in
	// place of name's.
	signWeak := func(t *testing.T, e *testEnv, name string) []byte {
		s := pki.Store{Dir: e.Cluster.CertificatesDir}
		old, _, err := s.ReadCert(name)
		if err != nil {
			t.Fatal(err)
		}
		ca := loadCA(t, e)
		c, err := pki.Sign(rand.Reader, pki.ProfileFromCert(name, name, "ca", old), weak.Public(), ca.Cert, ca.Key, pki.NewValidity(fixedNow, time.Hour, 24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		return pki.EncodeCert(c)
	}
	tests := []struct {
		name    string
		prepare func(t *testing.T, e *testEnv)
		phase   string
		want    []string
	}{
		{"leaf key left without its certificate", func(t *testing.T, e *testEnv) {
			e.mustRun(t, "certs", "all")
			removeAll(t, e.pki("apiserver.crt"))
			writeFile(t, e.pki("apiserver.key"), string(weakPEM))
		}, "certs/all", []string{"the key " + "APISERVER.KEY", "RSA-1024", "remove it to make a new pair"}},
		{"CA key left without its certificate", func(t *testing.T, e *testEnv) {
			if err := os.MkdirAll(e.Cluster.CertificatesDir, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFile(t, e.pki("front-proxy-ca.key"), string(weakPEM))
		}, "certs/front-proxy-ca", []string{"the CA key " + "FRONT-PROXY-CA.KEY", "RSA-1024", "no CA certificate is made for it"}},
		{"existing certificate and key", func(t *testing.T, e *testEnv) {
			e.mustRun(t, "certs", "all")
			crt := signWeak(t, e, "apiserver-kubelet-client")
			writeFile(t, e.pki("apiserver-kubelet-client.key"), string(weakPEM))
			writeFile(t, e.pki("apiserver-kubelet-client.crt"), string(crt))
		}, "certs/all", []string{"the key " + "APISERVER-KUBELET-CLIENT.KEY", "RSA-1024", "certctl renew apiserver-kubelet-client"}},
		{"existing kubeconfig", func(t *testing.T, e *testEnv) {
			e.mustRun(t, "certs", "all")
			e.mustRun(t, "kubeconfig", "admin")
			path := filepath.Join(e.dir, "admin.conf")
			cfg, err := kubeconfig.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			cert, _, err := kubeconfig.ClientCert(cfg)
			if err != nil {
				t.Fatal(err)
			}
			ca := loadCA(t, e)
			c, err := pki.Sign(rand.Reader, pki.ProfileFromCert("admin", "admin.conf", "ca", cert), weak.Public(), ca.Cert, ca.Key, pki.NewValidity(fixedNow, time.Hour, 24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			data, err := kubeconfig.SetClientCert(cfg, path, pki.EncodeCert(ca.Cert), pki.EncodeCert(c), weakPEM)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, path, string(data))
		}, "kubeconfig/admin", []string{"kubeconfig " + "ADMIN.CONF", "RSA-1024", "certctl renew admin.conf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t)
			tt.prepare(t, e)
			before := snapshot(t, e.dir)
			g, n, _ := strings.Cut(tt.phase, "/")
			err := e.run(t, g, n)
			want := append([]string{}, tt.want...)
			for i, w := range want {
				for _, f := range []string{"APISERVER.KEY", "FRONT-PROXY-CA.KEY", "APISERVER-KUBELET-CLIENT.KEY"} {
					w = strings.Replace(w, f, e.pki(strings.ToLower(f)), 1)
				}
				want[i] = strings.Replace(w, "ADMIN.CONF", filepath.Join(e.dir, "admin.conf"), 1)
			}
			treetest.ErrMentions(t, err, want...)
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			assertSameTree(t, before, snapshot(t, e.dir))
		})
	}
}

// TestWeakCAWarns: a CA whose key the policy refuses still signs (refusing
// would stop every renewal until the CA is rotated), with one warning
// naming it and saying to rotate it.
func TestWeakCAWarns(t *testing.T) {
	e := newTestEnv(t)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store().WriteKey("ca", weak); err != nil {
		t.Fatal(err)
	}
	writeCA(t, e, "ca", x509.Certificate{BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature})
	want := "[warning] the key of CA certificate " + e.pki("ca.crt") + " is RSA-1024"
	// Once per run, however many certificates the CA signs in it.
	for _, group := range []string{"certs", "kubeconfig"} {
		e.out.Reset()
		e.mustRun(t, group, "all")
		if got := strings.Count(e.out.String(), want); got != 1 {
			t.Errorf("%s all: %d warnings %q, want 1 in:\n%s", group, got, want, e.out.String())
		}
		if !strings.Contains(e.out.String(), "rotate the CA (certctl ca rotate") {
			t.Errorf("%s all: the warning does not say what to do:\n%s", group, e.out.String())
		}
	}
}

func loadCA(t *testing.T, e *testEnv) *pki.LoadedCA {
	t.Helper()
	ca, err := pki.LoadCA(e.pki("ca.crt"), e.pki("ca.key"), fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// TestWeakServiceAccountKeyWarns: an existing RSA-1024 sa.key was kept
// without a word ("Using the existing "sa" key"). It is still kept, as a
// weak CA is (the tokens issued depend on it), with one warning saying to
// rotate it; a new pair is never weak.
func TestWeakServiceAccountKeyWarns(t *testing.T) {
	e := newTestEnv(t)
	weak, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store().WriteKey("sa", weak); err != nil {
		t.Fatal(err)
	}
	e.mustRun(t, "certs", "sa")
	want := "[warning] the service-account key " + e.pki("sa.key") + " is RSA-1024"
	if got := strings.Count(e.out.String(), want); got != 1 || !strings.Contains(e.out.String(), "rotate it (certctl ca rotate sa") {
		t.Errorf("%d warnings %q with what to do, want 1 in:\n%s", got, want, e.out.String())
	}
	if _, err := e.store().ReadPublicKey("sa"); err != nil {
		t.Errorf("sa.pub not written for the kept key: %v", err)
	}
}
